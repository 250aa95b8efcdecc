//! The measurements. Each prints its own table rows and, where there is a baseline, the
//! ratio against it from the same run.

pub mod fanout;
pub mod feed;
pub mod http;
pub mod idle;
pub mod smoke;
pub mod soak;

/// `ours / baseline`, as printed in the tables.
pub fn ratio(ours: f64, baseline: f64) -> String {
    if baseline > 0.0 {
        format!("{:.2}×", ours / baseline)
    } else {
        "n/a".into()
    }
}
