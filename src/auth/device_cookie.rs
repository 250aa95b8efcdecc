//! Device cookies (OWASP's pattern against account lockout): a browser that signed in to an
//! account before carries a signed token for it, and its sign-ins to that account are
//! counted per device instead of against the account. Someone guessing passwords from
//! elsewhere, however often, cannot lock the owner out of a browser they have used.
//!
//! One cookie holds the tokens of the last few accounts signed in from the browser (a
//! shared family computer, a mentor who is also a learner), each bound to an account id:
//! an e-mail freed by a closed account and registered again is a new account.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::crypto::Secret;

pub const DEVICE_COOKIE: &str = "device_token";
/// How long a browser stays known without signing in again.
pub const DEVICE_TTL_DAYS: i64 = 365;

const VERSION: &str = "d1";
/// Accounts one browser is remembered for.
const ACCOUNTS_PER_BROWSER: usize = 4;
const SEPARATOR: char = '~';

/// Issues and recognises device tokens: `d1.<device id>.<HMAC of account and device>`,
/// several joined by `~` in one cookie. A token names no account; it is checked against
/// the one being signed in to.
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

    /// The cookie value after `account` signed in from a browser that sent `current`: a
    /// fresh token for it first, then the browser's tokens for other accounts.
    pub fn remember(&self, current: Option<&str>, account: &str) -> String {
        let others = current
            .unwrap_or_default()
            .split(SEPARATOR)
            .take(ACCOUNTS_PER_BROWSER)
            .filter(|token| well_formed(token) && self.recognise_one(token, account).is_none())
            .take(ACCOUNTS_PER_BROWSER - 1);
        std::iter::once(self.issue(account))
            .chain(others.map(str::to_string))
            .collect::<Vec<_>>()
            .join(&SEPARATOR.to_string())
    }

    /// The device id, when the cookie holds a token issued to a browser that signed in to
    /// `account`.
    pub fn recognise(&self, cookie: &str, account: &str) -> Option<String> {
        cookie
            .split(SEPARATOR)
            .take(ACCOUNTS_PER_BROWSER)
            .find_map(|token| self.recognise_one(token, account))
    }

    /// A token for this browser and `account`.
    fn issue(&self, account: &str) -> String {
        let mut id = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut id);
        let device = hex::encode(id);
        let tag = hex::encode(self.mac(account, &device).finalize().into_bytes());
        format!("{VERSION}.{device}.{tag}")
    }

    fn recognise_one(&self, token: &str, account: &str) -> Option<String> {
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

/// `d1.<32 hex digits>.<64 hex digits>`: the shape of a token we issued, whoever it is for.
fn well_formed(token: &str) -> bool {
    let hex =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_hexdigit());
    let mut parts = token.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(VERSION), Some(device), Some(tag), None) if hex(device, 32) && hex(tag, 64)
    )
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

    #[test]
    fn one_browser_is_remembered_for_its_last_few_accounts() {
        let cookies = DeviceCookies::new(&Secret::new(vec![7; 32]));
        let mut cookie = cookies.remember(None, "a");
        for account in ["b", "c", "a", "d"] {
            cookie = cookies.remember(Some(&cookie), account);
        }
        for account in ["a", "b", "c", "d"] {
            assert!(cookies.recognise(&cookie, account).is_some(), "{account}");
        }
        assert_eq!(cookie.split('~').count(), 4, "one token per account");
        cookie = cookies.remember(Some(&cookie), "e");
        assert!(cookies.recognise(&cookie, "e").is_some());
        assert!(
            cookies.recognise(&cookie, "b").is_none(),
            "the oldest is forgotten"
        );
        let junk = cookies.remember(Some("garbage~~d1.x.y"), "f");
        assert_eq!(junk.split('~').count(), 1);
    }
}
