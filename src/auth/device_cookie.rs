//! Device cookies (OWASP's pattern against account lockout): a browser that signed in to an
//! account before carries a signed token for it, and its sign-ins to that account are
//! counted per device instead of against the account. Someone guessing passwords from
//! elsewhere, however often, cannot lock the owner out of a browser they have used.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::crypto::Secret;

pub const DEVICE_COOKIE: &str = "device_token";
/// How long a browser stays known without signing in again.
pub const DEVICE_TTL_DAYS: i64 = 365;

const VERSION: &str = "d1";

/// Issues and recognises device tokens: `d1.<device id>.<HMAC of account and device>`.
/// The token names no account; it is checked against the one being signed in to.
#[derive(Clone)]
pub struct DeviceCookies {
    key: Secret,
}

impl DeviceCookies {
    /// Keyed apart from the access tokens' use of the same secret.
    pub fn new(secret: &Secret) -> Self {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.expose()).expect("HMAC takes keys of any length");
        mac.update(b"leadbridge device cookie v1");
        Self {
            key: Secret::new(mac.finalize().into_bytes().to_vec()),
        }
    }

    fn mac(&self, account: &str, device: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.expose()).expect("HMAC takes any key");
        mac.update(account.as_bytes());
        mac.update(b".");
        mac.update(device.as_bytes());
        mac
    }

    /// A token for this browser and `account` (the throttle's account key).
    pub fn issue(&self, account: &str) -> String {
        let mut id = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut id);
        let device = hex::encode(id);
        let tag = hex::encode(self.mac(account, &device).finalize().into_bytes());
        format!("{VERSION}.{device}.{tag}")
    }

    /// The device id, when `token` was issued to a browser that signed in to `account`.
    pub fn recognise(&self, token: &str, account: &str) -> Option<String> {
        let mut parts = token.split('.');
        let (Some(VERSION), Some(device), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let tag = hex::decode(tag).ok()?;
        // `verify_slice` compares in constant time.
        self.mac(account, device)
            .verify_slice(&tag)
            .ok()
            .map(|()| device.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_recognised_only_for_its_account_and_key() {
        let cookies = DeviceCookies::new(&Secret::new(vec![7; 32]));
        let token = cookies.issue("account-a");
        let device = cookies.recognise(&token, "account-a").expect("recognised");
        assert_eq!(device.len(), 32);
        assert_ne!(token, cookies.issue("account-a"), "a new device each time");
        assert_eq!(cookies.recognise(&token, "account-b"), None);
        let other_key = DeviceCookies::new(&Secret::new(vec![8; 32]));
        assert_eq!(other_key.recognise(&token, "account-a"), None);
        let last = if token.ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{last}", &token[..token.len() - 1]);
        assert_eq!(cookies.recognise(&forged, "account-a"), None);
        assert_eq!(cookies.recognise("d1.x", "account-a"), None);
        assert_eq!(cookies.recognise(&format!("{token}.x"), "account-a"), None);
    }
}
