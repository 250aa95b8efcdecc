use std::process::ExitCode;

use leadbridge::config::Config;
use leadbridge::startup::Application;

const USAGE: &str =
    "usage: leadbridge serve   (configuration comes from LEADBRIDGE_* variables; see README)";

#[actix_web::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => {}
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("leadbridge: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    leadbridge::telemetry::init(&config.log_filter);
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("leadbridge: cannot start: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("leadbridge: server error: {err}");
            ExitCode::FAILURE
        }
    }
}
