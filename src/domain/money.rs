//! Money: prices are whole rupees (the seed's `price_per_lead`), gateways want paise.

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// Highest price a mentor may set per lead, in rupees; keeps paise far from overflow.
pub const MAX_PRICE_RUPEES: i64 = 1_000_000;

/// A positive amount of whole rupees.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Rupees(i64);

impl Rupees {
    pub fn parse(field: &'static str, value: i64) -> Result<Self, ValidationError> {
        if !(1..=MAX_PRICE_RUPEES).contains(&value) {
            return Err(ValidationError::new(
                field,
                "VALIDATION_FAILED",
                format!("must be between 1 and {MAX_PRICE_RUPEES} rupees"),
            ));
        }
        Ok(Self(value))
    }

    /// Trusted constructor for values read back from the store.
    pub fn from_stored(value: i64) -> Self {
        Self(value)
    }

    pub fn value(self) -> i64 {
        self.0
    }

    pub fn to_paise(self) -> Paise {
        Paise(self.0 * 100)
    }
}

/// An amount in paise (1/100 rupee), the unit Razorpay uses.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Paise(i64);

impl Paise {
    pub fn new(value: i64) -> Self {
        Self(value)
    }

    pub fn value(self) -> i64 {
        self.0
    }

    /// Whole rupees, rounding down (revenue is reported in rupees as in the seed).
    pub fn whole_rupees(self) -> i64 {
        self.0 / 100
    }
}

pub const CURRENCY: &str = "INR";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupees_convert_to_paise() {
        assert_eq!(Rupees::parse("p", 500).unwrap().to_paise().value(), 50_000);
        assert_eq!(Paise::new(50_099).whole_rupees(), 500);
    }

    #[test]
    fn prices_must_be_positive_and_bounded() {
        assert!(Rupees::parse("price_per_lead", 0).is_err());
        assert!(Rupees::parse("price_per_lead", -5).is_err());
        assert!(Rupees::parse("price_per_lead", MAX_PRICE_RUPEES + 1).is_err());
        assert!(Rupees::parse("price_per_lead", MAX_PRICE_RUPEES).is_ok());
    }
}
