//! The API against its own description: Schemathesis generates requests from
//! `/api/openapi.json` (valid and invalid ones, then sequences of calls), as an anonymous
//! caller, an admin and a mentor, and checks that no answer is a 5xx and that every answer
//! has a documented status, content type, headers and body shape.

use std::process::Command;

use crate::common::install;
use crate::common::spawn_app;

/// Runs `st` against the description at `url` with `headers`, answering its report when
/// it found anything.
fn schemathesis(st: &std::path::Path, url: &str, headers: &[String]) -> Result<(), String> {
    // Hypothesis keeps an example database in the working directory: a fresh one per run
    // keeps the clone clean and each run the same for its seed.
    let workdir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut command = Command::new(st);
    command
        .current_dir(workdir.path())
        .arg("run")
        .arg(url)
        .args(["--checks", "all"])
        // A schema cannot say "a valid Razorpay signature" or "a WebSocket handshake", and
        // our own checks (disposable domains, weak passwords, unknown cursors) are stricter
        // than JSON Schema: refusing such schema-valid input with a 4xx is intended.
        .args(["--max-examples", "20", "--seed", "20261130", "--no-color"])
        // The suite runs beside other tests on two cores: slow generation or a slow answer
        // under that load is not a finding about the API.
        .args([
            "--suppress-health-check",
            "too_slow,filter_too_much,data_too_large",
        ])
        .args(["--request-timeout", "30"]);
    for header in headers {
        command.args(["-H", header]);
    }
    if headers.is_empty() {
        command.args(["--exclude-checks", "positive_data_acceptance"]);
    } else {
        // Signed in with a bearer token, a request with a forged cookie is rightly
        // accepted (either credential suffices): forged credentials are checked by the
        // anonymous run. Signing out would end the session the rest of the run relies on.
        command
            .args(["--exclude-checks", "positive_data_acceptance,ignored_auth"])
            .args(["--exclude-path", "/api/auth/logout"]);
    }
    let output = command
        .output()
        .map_err(|e| format!("st could not run: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_api_description() {
    let st = install::schemathesis().expect("schemathesis");
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let callers = [
        ("anonymous", Vec::new()),
        (
            "admin",
            vec![format!("Authorization: Bearer {}", admin.access_token)],
        ),
        (
            "mentor",
            vec![format!("Authorization: Bearer {}", mentor.access_token)],
        ),
    ];
    for (who, headers) in callers {
        let (st, url) = (st.clone(), app.url("/api/openapi.json"));
        let found = tokio::task::spawn_blocking(move || schemathesis(&st, &url, &headers))
            .await
            .expect("st finished");
        if let Err(report) = found {
            panic!("as {who}, Schemathesis found problems:\n{report}");
        }
    }
}
