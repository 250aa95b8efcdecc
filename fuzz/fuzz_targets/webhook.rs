//! A webhook delivery from anyone: checking its signature and parsing its body never panic,
//! whatever the header and the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use leadbridge::payments::signature::verify_webhook;
use leadbridge::payments::webhook::parse;

fuzz_target!(|data: &[u8]| {
    // The first line plays the X-Razorpay-Signature header, the rest the body.
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(0);
    let (header, body) = data.split_at(split);
    let signature = String::from_utf8_lossy(header);
    let _ = verify_webhook(b"fuzz-webhook-secret", body, &signature);
    let _ = parse(body);
});
