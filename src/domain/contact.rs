//! Contact details a learner leaves with a booking, and the parsed forms of e-mail and phone.

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// A syntactically valid, normalised (trimmed, lower-cased) e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Checks the shape that matters for delivery: one `@`, a dot-atom local part and a
    /// domain of at least two LDH labels. No network look-ups.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let invalid = |why: &str| {
            ValidationError::new(
                field,
                "INVALID_EMAIL",
                format!("is not a valid e-mail address: {why}"),
            )
        };
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(invalid("it is empty"));
        }
        if value.len() > 254 {
            return Err(invalid("it is longer than 254 characters"));
        }
        let (local, domain) = value
            .rsplit_once('@')
            .ok_or_else(|| invalid("it has no @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("the part before @ must have 1 to 64 characters"));
        }
        let local_ok = local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c))
        });
        if !local_ok {
            return Err(invalid(
                "the part before @ has characters that are not allowed",
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(invalid("the domain needs a dot, as in example.com"));
        }
        let labels_ok = labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        let tld_ok = labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if !labels_ok || !tld_ok {
            return Err(invalid("the domain is not a valid host name"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Trusted constructor for values read back from the store.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

/// A phone number in E.164 form (`+919876543210`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses with India as the default region (numbers without `+` are Indian) and
    /// requires a number that is valid for its region, not merely well-formed.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let invalid = |why: &str| {
            ValidationError::new(
                field,
                "INVALID_PHONE",
                format!("is not a valid phone number: {why}"),
            )
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        if trimmed.len() > 32 {
            return Err(invalid("it is too long"));
        }
        let parsed = phonenumber::parse(Some(phonenumber::country::Id::IN), trimmed)
            .map_err(|_| invalid("it could not be read as a phone number"))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(invalid("no such number exists in its region"));
        }
        Ok(Self(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

/// What a learner leaves with a booking. Encrypted at rest as one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: EmailAddress,
    pub phone: PhoneNumber,
    pub message: String,
}

impl Contact {
    /// The masked name a mentor sees before purchase: `Jane van Dyke` → `J. V. D.`.
    pub fn initials(&self) -> String {
        initials(&self.name)
    }
}

pub fn initials(name: &str) -> String {
    let parts: Vec<String> = name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .flat_map(|c| c.to_uppercase())
        .map(|c| format!("{c}."))
        .collect();
    if parts.is_empty() {
        "?".to_string()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_table() {
        let good = [
            ("Jane@Example.com", "jane@example.com"),
            ("  a.b+tag@sub.example.co.in ", "a.b+tag@sub.example.co.in"),
            ("x_y-z@my-host.org", "x_y-z@my-host.org"),
        ];
        for (raw, normalised) in good {
            assert_eq!(
                EmailAddress::parse("email", raw).unwrap().as_str(),
                normalised,
                "{raw}"
            );
        }
        let bad = [
            "",
            "plainaddress",
            "@example.com",
            "jane@",
            "jane@localhost",
            "jane..doe@example.com",
            "jane@-example.com",
            "jane@example.c0m",
            "jane doe@example.com",
            "jane@exa_mple.com",
        ];
        for raw in bad {
            let err = EmailAddress::parse("email", raw).unwrap_err();
            assert_eq!(err.code, "INVALID_EMAIL", "{raw}");
            assert_eq!(err.field, "email");
        }
    }

    #[test]
    fn email_domain_is_the_part_after_at() {
        assert_eq!(
            EmailAddress::parse("e", "a@Mailinator.com")
                .unwrap()
                .domain(),
            "mailinator.com"
        );
    }

    #[test]
    fn phone_table() {
        let good = [
            ("+91 98765 43210", "+919876543210"),
            ("9876543210", "+919876543210"),
            ("098765-43210", "+919876543210"),
            ("+1 650-253-0000", "+16502530000"),
            ("+911234567890", "+911234567890"),
        ];
        for (raw, e164) in good {
            assert_eq!(
                PhoneNumber::parse("phone", raw).unwrap().as_str(),
                e164,
                "{raw}"
            );
        }
        for raw in [
            "",
            "12345",
            "+91 12345",
            "not a phone",
            "+999 1234567890",
            "+91 98765",
        ] {
            let err = PhoneNumber::parse("phone", raw).unwrap_err();
            assert_eq!(err.code, "INVALID_PHONE", "{raw}");
        }
    }

    #[test]
    fn initials_mask_names() {
        assert_eq!(initials("Jane van Dyke"), "J. V. D.");
        assert_eq!(initials("  ananya  "), "A.");
        assert_eq!(initials("   "), "?");
        assert_eq!(initials("émile zola"), "É. Z.");
    }
}
