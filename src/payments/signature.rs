//! Razorpay's two HMAC-SHA256 signatures, checked in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // unwrap: HMAC accepts keys of any length.
    let mut mac = HmacSha256::new_from_slice(secret).expect("hmac key of any length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// Checkout signature: hex(HMAC-SHA256(key_secret, order_id + "|" + payment_id)).
pub fn checkout_signature(key_secret: &[u8], order_id: &str, payment_id: &str) -> String {
    hex::encode(
        mac(
            key_secret,
            &[order_id.as_bytes(), b"|", payment_id.as_bytes()],
        )
        .finalize()
        .into_bytes(),
    )
}

pub fn verify_checkout(
    key_secret: &[u8],
    order_id: &str,
    payment_id: &str,
    signature_hex: &str,
) -> bool {
    let Ok(given) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    mac(
        key_secret,
        &[order_id.as_bytes(), b"|", payment_id.as_bytes()],
    )
    .verify_slice(&given)
    .is_ok()
}

/// Webhook signature: hex(HMAC-SHA256(webhook_secret, raw body)).
pub fn webhook_signature(webhook_secret: &[u8], body: &[u8]) -> String {
    hex::encode(mac(webhook_secret, &[body]).finalize().into_bytes())
}

pub fn verify_webhook(webhook_secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    mac(webhook_secret, &[body]).verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Razorpay's documented checkout example.
    const SECRET: &[u8] = b"EnLs21M47BllR3X8PSFtjtbd";
    const ORDER: &str = "order_IEIaMR65cu6nz3";
    const PAYMENT: &str = "pay_IH4NVgf4Dreq1l";
    const EXPECTED: &str = "0d4e745a1838664ad6c9c9902212a32d627d68e917290b0ad5f08ff4561bc50f";

    #[test]
    fn checkout_signature_matches_razorpays_documented_vector() {
        assert_eq!(checkout_signature(SECRET, ORDER, PAYMENT), EXPECTED);
        assert!(verify_checkout(SECRET, ORDER, PAYMENT, EXPECTED));
    }

    #[test]
    fn tampered_checkout_values_fail() {
        assert!(!verify_checkout(
            SECRET,
            ORDER,
            "pay_IH4NVgf4Dreq1m",
            EXPECTED
        ));
        assert!(!verify_checkout(b"other-secret", ORDER, PAYMENT, EXPECTED));
        assert!(!verify_checkout(SECRET, ORDER, PAYMENT, &EXPECTED[..62]));
        assert!(!verify_checkout(SECRET, ORDER, PAYMENT, "not hex"));
    }

    #[test]
    fn webhook_signature_covers_the_raw_body() {
        let body = br#"{"event":"payment.captured"}"#;
        let sig = webhook_signature(b"whsec", body);
        assert!(verify_webhook(b"whsec", body, &sig));
        assert!(!verify_webhook(
            b"whsec",
            br#"{"event":"payment.captured" }"#,
            &sig
        ));
        assert!(!verify_webhook(b"other", body, &sig));
    }
}
