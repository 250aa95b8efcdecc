//! Automatic lead checks, run at booking with no network access.
//!
//! Syntax errors (e-mail, phone) reject the booking outright (422). What parses but looks
//! doubtful (a throwaway domain, a contact another account already used on this event)
//! becomes a PENDING lead for an admin instead of a lead a mentor could pay for.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::contact::{Contact, EmailAddress, PhoneNumber};
use super::lead::{Lead, LeadStatus, VerificationStatus};
use super::{bounded_text, user::parse_name, ValidationError};

/// Shipped list of disposable e-mail domains, one per line (`#` comments allowed).
const DISPOSABLE_DOMAINS: &str = include_str!("../../assets/disposable_domains.txt");

fn disposable_domains() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        DISPOSABLE_DOMAINS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether `domain` or any parent domain of it is on the disposable list.
pub fn is_disposable_domain(domain: &str) -> bool {
    let set = disposable_domains();
    let mut rest = domain;
    loop {
        if set.contains(rest) {
            return true;
        }
        match rest.split_once('.') {
            Some((_, parent)) if parent.contains('.') => rest = parent,
            _ => return false,
        }
    }
}

/// Raw booking fields as they came over the wire.
pub struct ContactInput<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub message: &'a str,
}

/// Parses the contact; any error here is a 422 at booking.
pub fn parse_contact(input: ContactInput<'_>) -> Result<Contact, ValidationError> {
    Ok(Contact {
        name: parse_name(input.name)?,
        email: EmailAddress::parse("email", input.email)?,
        phone: PhoneNumber::parse("phone", input.phone)?,
        message: bounded_text("message", input.message, 0, 2000)?,
    })
}

/// Reasons a parsed lead goes to manual review. Stable strings: admins and tests see them.
pub const DISPOSABLE_EMAIL: &str = "DISPOSABLE_EMAIL_DOMAIN";
pub const DUPLICATE_CONTACT: &str = "DUPLICATE_CONTACT";
/// Every flag the automatic checks raise (the rest of a lead's notes are admins' words).
pub const FLAGS: &[&str] = &[DISPOSABLE_EMAIL, DUPLICATE_CONTACT];

/// Flags raised by checks that need only the contact itself.
pub fn contact_flags(contact: &Contact) -> Vec<String> {
    let mut flags = Vec::new();
    if is_disposable_domain(contact.email.domain()) {
        flags.push(DISPOSABLE_EMAIL.to_string());
    }
    flags
}

/// The starting state of a lead, given every flag raised (including a duplicate found by
/// the store under its write lock).
pub fn initial_state(flags: &[String]) -> (LeadStatus, VerificationStatus) {
    if flags.is_empty() {
        (LeadStatus::Verified, VerificationStatus::AutoVerified)
    } else {
        (LeadStatus::Pending, VerificationStatus::Pending)
    }
}

/// What the admin wrote when rejecting the lead: its last note, unless that is a flag of
/// the automatic checks. (A rejection through the API always has a reason.)
pub fn rejection_reason(lead: &Lead) -> Option<&str> {
    if lead.status != LeadStatus::Rejected {
        return None;
    }
    lead.verification_notes
        .last()
        .map(String::as_str)
        .filter(|note| !FLAGS.contains(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(email: &str, phone: &str) -> Result<Contact, ValidationError> {
        parse_contact(ContactInput {
            name: "Jane Doe",
            email,
            phone,
            message: "Keen to learn",
        })
    }

    /// The starting status and flags of a booking, or the code of its 422.
    type Outcome = Result<(LeadStatus, &'static [&'static str]), &'static str>;

    #[test]
    fn booking_check_table() {
        // (email, phone, expected outcome)
        let table: &[(&str, &str, Outcome)] = &[
            (
                "jane@example.com",
                "+91 98765 43210",
                Ok((LeadStatus::Verified, &[])),
            ),
            (
                "jane@gmail.com",
                "9876543210",
                Ok((LeadStatus::Verified, &[])),
            ),
            (
                "jane@mailinator.com",
                "9876543210",
                Ok((LeadStatus::Pending, &[DISPOSABLE_EMAIL])),
            ),
            (
                "jane@eu.guerrillamail.com",
                "9876543210",
                Ok((LeadStatus::Pending, &[DISPOSABLE_EMAIL])),
            ),
            (
                "jane@10minutemail.com",
                "9876543210",
                Ok((LeadStatus::Pending, &[DISPOSABLE_EMAIL])),
            ),
            ("jane@", "9876543210", Err("INVALID_EMAIL")),
            ("jane@example.com", "12345", Err("INVALID_PHONE")),
        ];
        for (email, phone, expected) in table {
            let got = contact(email, phone).map(|c| {
                let flags = contact_flags(&c);
                (initial_state(&flags).0, flags)
            });
            match (got, expected) {
                (Ok((status, flags)), Ok((want_status, want_flags))) => {
                    assert_eq!(status, *want_status, "{email}");
                    assert_eq!(
                        flags,
                        want_flags.iter().map(|s| s.to_string()).collect::<Vec<_>>()
                    );
                }
                (Err(e), Err(code)) => assert_eq!(e.code, *code, "{email} {phone}"),
                (got, want) => panic!("{email} {phone}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_duplicate_sends_a_clean_contact_to_review() {
        let flags = vec![DUPLICATE_CONTACT.to_string()];
        assert_eq!(
            initial_state(&flags),
            (LeadStatus::Pending, VerificationStatus::Pending)
        );
        assert_eq!(
            initial_state(&[]),
            (LeadStatus::Verified, VerificationStatus::AutoVerified)
        );
    }

    #[test]
    fn parent_domains_of_listed_domains_are_not_flagged() {
        assert!(!is_disposable_domain("com"));
        assert!(!is_disposable_domain("example.com"));
        assert!(is_disposable_domain("mailinator.com"));
    }
}
