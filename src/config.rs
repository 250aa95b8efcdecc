//! Settings, read once from the environment. A bad value stops the start with one line that
//! names the variable.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use rand::RngCore;

use crate::auth::password_pool::PoolLimits;
use crate::crypto::{Secret, KEY_LEN};
use crate::domain::contact::EmailAddress;
use crate::domain::user::NewPassword;
use crate::net::ConnectionLimits;
use crate::private_files;
use crate::store::scylla::ScyllaConfig;
use leadbridge_actors::bus::HistoryLimits;
use leadbridge_actors::session::Limits;

/// A configuration error: the variable and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

#[derive(Debug, Clone)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Scylla(ScyllaConfig),
}

#[derive(Debug, Clone)]
pub struct AdminBootstrap {
    pub email: String,
    pub password: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentsMode {
    /// Orders made locally; checkout completed by `/api/payments/simulated-checkout`.
    Simulated,
    /// Orders made through Razorpay's Orders API.
    Razorpay,
}

#[derive(Debug, Clone)]
pub struct RazorpaySettings {
    pub mode: PaymentsMode,
    pub key_id: String,
    pub key_secret: Secret,
    pub webhook_secret: Secret,
    /// Base URL of the Orders API; tests point it at a local fake.
    pub api_base: String,
    pub timeout: Duration,
}

/// Google sign-in (OpenID Connect), on when a client id and secret are configured.
#[derive(Debug, Clone)]
pub struct GoogleSettings {
    pub client_id: String,
    pub client_secret: Secret,
    /// Whose discovery document to read (`/.well-known/openid-configuration` under it);
    /// tests point it at a local fake provider.
    pub issuer: String,
    /// `LEADBRIDGE_PUBLIC_URL` + `/api/auth/google/callback`, as registered with Google.
    pub redirect_uri: String,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub admin: Option<AdminBootstrap>,
    pub jwt_secret: Secret,
    pub data_key: Secret,
    /// Normalised `scheme://host[:port]` origins trusted besides the server's own.
    pub allowed_origins: Vec<String>,
    pub razorpay: RazorpaySettings,
    /// How much history each realtime topic keeps for recovery.
    pub history: HistoryLimits,
    /// Per-socket limits (heartbeat and idle timeout are configurable).
    pub socket_limits: Limits,
    /// Redis for the bus between nodes (`redis://`); absent: one node, the
    /// in-process bus.
    pub redis_url: Option<String>,
    /// Rate limits on sign-in, registration, booking and socket connects (`off` only for
    /// load tests).
    pub rate_limits: bool,
    /// Whether the client address is the last `X-Forwarded-For` hop (set only behind a
    /// proxy that writes it; otherwise anyone could pick their own address).
    pub trust_forwarded_for: bool,
    /// A session unused this long ends (its absolute end is `auth::SESSION_TTL`).
    pub session_idle: Duration,
    pub google: Option<GoogleSettings>,
    /// Bounds on each connection: per address, stalled writes, slow bodies.
    pub connections: ConnectionLimits,
    /// How many password hashes run at once and how many may wait.
    pub password_hashing: PoolLimits,
    pub log_filter: String,
    /// What was wrong but could be fixed while reading the settings, logged at start.
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut vars = HashMap::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().map(str::to_string) else {
                continue;
            };
            match value.into_string() {
                Ok(value) => {
                    vars.insert(name, value);
                }
                Err(_) if is_ours(&name) => {
                    return Err(ConfigError {
                        var: known_name(&name),
                        message: "is not valid UTF-8".into(),
                    })
                }
                Err(_) => {}
            }
        }
        Self::from_vars(&vars)
    }

    /// Reads from a map of variables (the process environment or a test's own).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let addr = match get("LEADBRIDGE_ADDR") {
            Some(v) => v.parse().map_err(|_| {
                bad(
                    "LEADBRIDGE_ADDR",
                    format!("{v:?} is not a host:port socket address"),
                )
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8001)),
        };
        let data_dir = PathBuf::from(get("LEADBRIDGE_DATA_DIR").unwrap_or_else(|| "./data".into()));
        create_private_dir(&data_dir).map_err(|e| {
            bad(
                "LEADBRIDGE_DATA_DIR",
                format!("cannot create {}: {e}", data_dir.display()),
            )
        })?;
        let mut warnings = Vec::new();
        match private_files::make_private_dir(&data_dir) {
            Ok(None) => {}
            Ok(Some(warning)) => warnings.push(format!("LEADBRIDGE_DATA_DIR {warning}")),
            Err(e) => {
                return Err(bad(
                    "LEADBRIDGE_DATA_DIR",
                    format!(
                        "{} holds keys, password hashes and contacts, but {e}",
                        data_dir.display()
                    ),
                ))
            }
        }

        let database = match get("LEADBRIDGE_DATABASE_URL") {
            None => DatabaseUrl::Sqlite(data_dir.join("leadbridge.db")),
            Some(url) => parse_database_url(&url)?,
        };
        let database = match database {
            DatabaseUrl::Scylla(scylla) => DatabaseUrl::Scylla(ScyllaConfig {
                replication: match get("LEADBRIDGE_SCYLLA_REPLICATION") {
                    Some(map) if map.trim_start().starts_with('{') && map.trim_end().ends_with('}') => map,
                    Some(_) => {
                        return Err(bad(
                            "LEADBRIDGE_SCYLLA_REPLICATION",
                            "must be a CQL replication map, as in {'class': 'NetworkTopologyStrategy', 'replication_factor': 3}",
                        ))
                    }
                    None => scylla.replication,
                },
                datacenter: get("LEADBRIDGE_SCYLLA_DATACENTER"),
                ..scylla
            }),
            sqlite => sqlite,
        };

        let admin = match pair(&get, "LEADBRIDGE_ADMIN_EMAIL", "LEADBRIDGE_ADMIN_PASSWORD")? {
            None => None,
            Some((email, password)) => {
                let email = EmailAddress::parse("email", &email)
                    .map_err(|e| bad("LEADBRIDGE_ADMIN_EMAIL", e.message))?;
                NewPassword::parse(&password)
                    .map_err(|e| bad("LEADBRIDGE_ADMIN_PASSWORD", e.message))?;
                Some(AdminBootstrap {
                    email: email.as_str().to_string(),
                    password: Secret::new(password.into_bytes()),
                })
            }
        };

        let jwt_secret = match get("LEADBRIDGE_JWT_SECRET") {
            Some(v) if v.len() >= KEY_LEN => Secret::new(v.into_bytes()),
            Some(_) => {
                return Err(bad(
                    "LEADBRIDGE_JWT_SECRET",
                    "must be at least 32 characters",
                ))
            }
            None => stored_secret(&data_dir, "jwt_secret", "LEADBRIDGE_JWT_SECRET")?,
        };
        let data_key = match get("LEADBRIDGE_DATA_KEY") {
            Some(v) => decode_key(&v).ok_or_else(|| {
                bad(
                    "LEADBRIDGE_DATA_KEY",
                    "must be 32 bytes as 64 hex digits or base64",
                )
            })?,
            None => stored_secret(&data_dir, "data_key", "LEADBRIDGE_DATA_KEY")?,
        };

        let allowed_origins = match get("LEADBRIDGE_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|o| {
                    normalise_origin(o).ok_or_else(|| {
                        bad(
                            "LEADBRIDGE_ALLOWED_ORIGINS",
                            format!("{o:?} is not an http(s) origin"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let razorpay = razorpay_settings(&get, &data_dir)?;
        let history = HistoryLimits {
            max_messages: number(&get, "LEADBRIDGE_HISTORY_SIZE", 1000, 1..=1_000_000)? as usize,
            max_age: Duration::from_secs(number(
                &get,
                "LEADBRIDGE_HISTORY_SECONDS",
                900,
                1..=7 * 86_400,
            )?),
        };
        let seconds =
            |var, default, max| number(&get, var, default, 1..=max).map(Duration::from_secs);
        let socket_limits = Limits {
            heartbeat: seconds("LEADBRIDGE_WS_PING_SECONDS", 20, 3600)?,
            client_timeout: seconds("LEADBRIDGE_WS_IDLE_SECONDS", 60, 7200)?,
            reconnect_grace: seconds("LEADBRIDGE_WS_RECONNECT_GRACE_SECONDS", 10, 3600)?,
            ..Limits::default()
        };

        let redis_url = match get("LEADBRIDGE_REDIS_URL") {
            None => None,
            Some(url) if url.starts_with("rediss://") => {
                return Err(bad(
                    "LEADBRIDGE_REDIS_URL",
                    "TLS to Redis (rediss://) is not built in; reach Redis over a private network or a TLS tunnel with redis://",
                ))
            }
            Some(url) if url.starts_with("redis://") => {
                url::Url::parse(&url)
                    .map_err(|e| bad("LEADBRIDGE_REDIS_URL", format!("is not a valid URL: {e}")))?;
                Some(url)
            }
            Some(_) => {
                return Err(bad(
                    "LEADBRIDGE_REDIS_URL",
                    "must start with redis://",
                ))
            }
        };

        let switch = |var: &'static str, default: bool| match get(var).as_deref() {
            None => Ok(default),
            Some("on" | "true" | "1") => Ok(true),
            Some("off" | "false" | "0") => Ok(false),
            Some(_) => Err(bad(var, "must be on or off")),
        };
        let rate_limits = switch("LEADBRIDGE_RATE_LIMITS", true)?;
        let trust_forwarded_for = switch("LEADBRIDGE_TRUST_X_FORWARDED_FOR", false)?;
        let session_idle = Duration::from_secs(number(
            &get,
            "LEADBRIDGE_SESSION_IDLE_SECONDS",
            86_400,
            2..=crate::auth::SESSION_TTL.num_seconds() as u64,
        )?);
        let google = google_settings(&get)?;
        let per_address = number(
            &get,
            "LEADBRIDGE_MAX_CONNECTIONS_PER_ADDRESS",
            128,
            0..=100_000,
        )? as usize;
        let write_stall = seconds("LEADBRIDGE_WRITE_TIMEOUT_SECONDS", 20, 3600)?;
        let connections = ConnectionLimits {
            // Behind our proxy every connection is the proxy's: it limits clients itself.
            per_address: (per_address > 0 && !trust_forwarded_for).then_some(per_address),
            write_stall,
            unacknowledged: write_stall.max(socket_limits.client_timeout),
            body: seconds("LEADBRIDGE_BODY_TIMEOUT_SECONDS", 10, 3600)?,
        };
        let threads = number(
            &get,
            "LEADBRIDGE_PASSWORD_THREADS",
            PoolLimits::for_this_machine().threads as u64,
            1..=256,
        )? as usize;
        let defaults = PoolLimits::with_threads(threads);
        let password_hashing = PoolLimits {
            queue: number(
                &get,
                "LEADBRIDGE_PASSWORD_QUEUE",
                defaults.queue as u64,
                0..=4096,
            )? as usize,
            ..defaults
        };

        let log_filter = get("RUST_LOG").unwrap_or_else(|| "info,actix_web=info".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| bad("RUST_LOG", format!("is not a valid filter: {e}")))?;

        Ok(Self {
            addr,
            data_dir,
            database,
            admin,
            jwt_secret,
            data_key,
            allowed_origins,
            razorpay,
            history,
            socket_limits,
            redis_url,
            rate_limits,
            trust_forwarded_for,
            session_idle,
            google,
            connections,
            password_hashing,
            log_filter,
            warnings,
        })
    }
}

/// Every variable this configuration reads.
const VARIABLES: &[&str] = &[
    "LEADBRIDGE_ADDR",
    "LEADBRIDGE_DATA_DIR",
    "LEADBRIDGE_DATABASE_URL",
    "LEADBRIDGE_ADMIN_EMAIL",
    "LEADBRIDGE_ADMIN_PASSWORD",
    "LEADBRIDGE_JWT_SECRET",
    "LEADBRIDGE_DATA_KEY",
    "LEADBRIDGE_ALLOWED_ORIGINS",
    "LEADBRIDGE_PAYMENTS",
    "RAZORPAY_KEY_ID",
    "RAZORPAY_KEY_SECRET",
    "RAZORPAY_WEBHOOK_SECRET",
    "RAZORPAY_API_BASE",
    "RAZORPAY_TIMEOUT_MS",
    "LEADBRIDGE_HISTORY_SIZE",
    "LEADBRIDGE_HISTORY_SECONDS",
    "LEADBRIDGE_WS_PING_SECONDS",
    "LEADBRIDGE_WS_IDLE_SECONDS",
    "LEADBRIDGE_WS_RECONNECT_GRACE_SECONDS",
    "LEADBRIDGE_REDIS_URL",
    "LEADBRIDGE_RATE_LIMITS",
    "LEADBRIDGE_TRUST_X_FORWARDED_FOR",
    "LEADBRIDGE_SESSION_IDLE_SECONDS",
    "LEADBRIDGE_MAX_CONNECTIONS_PER_ADDRESS",
    "LEADBRIDGE_WRITE_TIMEOUT_SECONDS",
    "LEADBRIDGE_BODY_TIMEOUT_SECONDS",
    "LEADBRIDGE_PASSWORD_THREADS",
    "LEADBRIDGE_PASSWORD_QUEUE",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "GOOGLE_ISSUER_URL",
    "LEADBRIDGE_PUBLIC_URL",
    "LEADBRIDGE_SCYLLA_REPLICATION",
    "LEADBRIDGE_SCYLLA_DATACENTER",
    "RUST_LOG",
];

fn is_ours(name: &str) -> bool {
    VARIABLES.contains(&name)
}

fn known_name(name: &str) -> &'static str {
    VARIABLES
        .iter()
        .find(|v| **v == name)
        .copied()
        .unwrap_or("environment")
}

/// A whole number within `range`, or `default` when unset.
fn number(
    get: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v.parse().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            bad(
                var,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        }),
    }
}

fn parse_database_url(url: &str) -> Result<DatabaseUrl, ConfigError> {
    const VAR: &str = "LEADBRIDGE_DATABASE_URL";
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(bad(
                VAR,
                "sqlite:// needs a file path, as in sqlite://./data/leadbridge.db",
            ));
        }
        return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
    }
    if url.starts_with("scylla://") {
        return ScyllaConfig::from_url(url).map(DatabaseUrl::Scylla).ok_or_else(|| {
            bad(
                VAR,
                "must look like scylla://host:9042[,host:9042]/keyspace (keyspace: letters, digits, _)",
            )
        });
    }
    Err(bad(
        VAR,
        format!("{url:?} must start with sqlite:// or scylla://"),
    ))
}

fn razorpay_settings(
    get: &dyn Fn(&str) -> Option<String>,
    data_dir: &Path,
) -> Result<RazorpaySettings, ConfigError> {
    let mode = match get("LEADBRIDGE_PAYMENTS").as_deref() {
        None | Some("simulated") => PaymentsMode::Simulated,
        Some("razorpay") => PaymentsMode::Razorpay,
        Some(other) => {
            return Err(bad(
                "LEADBRIDGE_PAYMENTS",
                format!("{other:?} must be simulated or razorpay"),
            ))
        }
    };
    let api_base = get("RAZORPAY_API_BASE").unwrap_or_else(|| "https://api.razorpay.com".into());
    url::Url::parse(&api_base)
        .map_err(|_| bad("RAZORPAY_API_BASE", format!("{api_base:?} is not a URL")))?;
    let timeout_ms: u64 = match get("RAZORPAY_TIMEOUT_MS") {
        None => 10_000,
        Some(v) => v
            .parse()
            .ok()
            .filter(|ms| (1..=120_000).contains(ms))
            .ok_or_else(|| {
                bad(
                    "RAZORPAY_TIMEOUT_MS",
                    "must be milliseconds between 1 and 120000",
                )
            })?,
    };
    let (key_id, key_secret, webhook_secret) = match mode {
        PaymentsMode::Razorpay => {
            let require = |var: &'static str| {
                get(var).ok_or_else(|| bad(var, "is required when LEADBRIDGE_PAYMENTS=razorpay"))
            };
            (
                require("RAZORPAY_KEY_ID")?,
                Secret::new(require("RAZORPAY_KEY_SECRET")?.into_bytes()),
                Secret::new(require("RAZORPAY_WEBHOOK_SECRET")?.into_bytes()),
            )
        }
        // Simulated mode signs with the configured secrets when given, else with secrets
        // generated once into the data directory, so signatures survive restarts.
        PaymentsMode::Simulated => (
            get("RAZORPAY_KEY_ID").unwrap_or_else(|| "rzp_test_simulated".into()),
            match get("RAZORPAY_KEY_SECRET") {
                Some(v) => Secret::new(v.into_bytes()),
                None => hex_secret(stored_secret(
                    data_dir,
                    "razorpay_key_secret",
                    "RAZORPAY_KEY_SECRET",
                )?),
            },
            match get("RAZORPAY_WEBHOOK_SECRET") {
                Some(v) => Secret::new(v.into_bytes()),
                None => hex_secret(stored_secret(
                    data_dir,
                    "razorpay_webhook_secret",
                    "RAZORPAY_WEBHOOK_SECRET",
                )?),
            },
        ),
    };
    Ok(RazorpaySettings {
        mode,
        key_id,
        key_secret,
        webhook_secret,
        api_base: api_base.trim_end_matches('/').to_string(),
        timeout: Duration::from_millis(timeout_ms),
    })
}

/// Two variables that make sense only together: both values, or neither.
fn pair(
    get: &impl Fn(&str) -> Option<String>,
    first: &'static str,
    second: &'static str,
) -> Result<Option<(String, String)>, ConfigError> {
    match (get(first), get(second)) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(bad(second, format!("must be set with {first}"))),
        (None, Some(_)) => Err(bad(first, format!("must be set with {second}"))),
        (Some(a), Some(b)) => Ok(Some((a, b))),
    }
}

/// Both Google credentials or neither; with them, the public URL Google redirects back to.
fn google_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<GoogleSettings>, ConfigError> {
    let Some((client_id, client_secret)) = pair(get, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")?
    else {
        return Ok(None);
    };
    let public = get("LEADBRIDGE_PUBLIC_URL").ok_or_else(|| {
        bad(
            "LEADBRIDGE_PUBLIC_URL",
            "is required with GOOGLE_CLIENT_ID: Google redirects back to <public URL>/api/auth/google/callback",
        )
    })?;
    let public = normalise_origin(&public).ok_or_else(|| {
        bad(
            "LEADBRIDGE_PUBLIC_URL",
            format!("{public:?} is not an http(s) origin such as https://leads.example.com"),
        )
    })?;
    let issuer = get("GOOGLE_ISSUER_URL").unwrap_or_else(|| "https://accounts.google.com".into());
    // The client secret travels to the issuer: in clear only to this machine.
    let loopback = |url: &url::Url| match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url::Url::parse(&issuer) {
        Ok(url) if url.scheme() == "https" || (url.scheme() == "http" && loopback(&url)) => {}
        _ => {
            return Err(bad(
                "GOOGLE_ISSUER_URL",
                format!("{issuer:?} is not an https URL (http only to this machine)"),
            ))
        }
    }
    Ok(Some(GoogleSettings {
        client_id,
        client_secret: Secret::new(client_secret.into_bytes()),
        issuer: issuer.trim_end_matches('/').to_string(),
        redirect_uri: format!("{public}/api/auth/google/callback"),
        timeout: Duration::from_secs(10),
    }))
}

/// Creates the data directory readable by its owner only (it holds keys, password hashes
/// and sealed contacts); an existing one is made private by the caller.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Razorpay secrets are text; a generated one is used as its hex form.
fn hex_secret(raw: Secret) -> Secret {
    Secret::new(hex::encode(raw.expose()).into_bytes())
}

fn decode_key(value: &str) -> Option<Secret> {
    let bytes = if value.len() == KEY_LEN * 2 && value.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(value).ok()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()?
    };
    (bytes.len() == KEY_LEN).then(|| Secret::new(bytes))
}

/// Reads a 32-byte key from `data_dir/name`, generating it (mode 0600) on first start.
/// `create_new` makes two processes starting together agree on one key.
fn stored_secret(data_dir: &Path, name: &str, var: &'static str) -> Result<Secret, ConfigError> {
    let path = data_dir.join(name);
    let unreadable = |e: std::io::Error| {
        bad(
            var,
            format!("not set, and {} is unusable: {e}", path.display()),
        )
    };
    let mut key = vec![0u8; KEY_LEN];
    rand::thread_rng().fill_bytes(&mut key);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(hex::encode(&key).as_bytes())
                .map_err(unreadable)?;
            file.sync_all().map_err(unreadable)?;
            Ok(Secret::new(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            private_files::tighten_if_present(&path).map_err(unreadable)?;
            // The writer may still be mid-write; wait briefly for a whole key.
            for _ in 0..50 {
                let text = fs::read_to_string(&path).map_err(unreadable)?;
                if let Some(secret) = decode_key(text.trim()) {
                    return Ok(secret);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(bad(
                var,
                format!(
                    "not set, and {} does not hold a 32-byte hex key",
                    path.display()
                ),
            ))
        }
        Err(e) => Err(unreadable(e)),
    }
}

/// `https://Example.com:443/x` → `https://example.com`; `None` for anything but http(s).
pub fn normalise_origin(origin: &str) -> Option<String> {
    let url = url::Url::parse(origin).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{}:{}", url.scheme(), host, port),
        None => format!("{}://{}", url.scheme(), host),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(dir: &Path, pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("LEADBRIDGE_DATA_DIR".into(), dir.display().to_string());
        map
    }

    fn error_var(pairs: &[(&str, &str)]) -> &'static str {
        let dir = tempfile::tempdir().unwrap();
        Config::from_vars(&vars(dir.path(), pairs)).unwrap_err().var
    }

    #[test]
    fn google_sign_in_needs_both_credentials_and_a_public_url() {
        let dir = tempfile::tempdir().unwrap();
        let off = Config::from_vars(&vars(dir.path(), &[])).unwrap();
        assert!(off.google.is_none());
        let on = Config::from_vars(&vars(
            dir.path(),
            &[
                ("GOOGLE_CLIENT_ID", "id.apps.googleusercontent.com"),
                ("GOOGLE_CLIENT_SECRET", "secret"),
                ("LEADBRIDGE_PUBLIC_URL", "https://leads.example.com/"),
            ],
        ))
        .unwrap();
        let google = on.google.unwrap();
        assert_eq!(
            google.redirect_uri,
            "https://leads.example.com/api/auth/google/callback"
        );
        assert_eq!(google.issuer, "https://accounts.google.com");
        assert_eq!(
            error_var(&[("GOOGLE_CLIENT_ID", "id")]),
            "GOOGLE_CLIENT_SECRET"
        );
        assert_eq!(
            error_var(&[("GOOGLE_CLIENT_SECRET", "s")]),
            "GOOGLE_CLIENT_ID"
        );
        let both = [("GOOGLE_CLIENT_ID", "id"), ("GOOGLE_CLIENT_SECRET", "s")];
        assert_eq!(error_var(&both), "LEADBRIDGE_PUBLIC_URL");
        let mut bad_url = both.to_vec();
        bad_url.push(("LEADBRIDGE_PUBLIC_URL", "leads.example.com"));
        assert_eq!(error_var(&bad_url), "LEADBRIDGE_PUBLIC_URL");
        let mut bad_issuer = both.to_vec();
        bad_issuer.extend([
            ("LEADBRIDGE_PUBLIC_URL", "http://127.0.0.1:8001"),
            ("GOOGLE_ISSUER_URL", "http://issuer.example.com"),
        ]);
        assert_eq!(
            error_var(&bad_issuer),
            "GOOGLE_ISSUER_URL",
            "secret in clear"
        );
    }

    #[test]
    fn the_idle_timeout_is_bounded_by_the_session_lifetime() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_vars(&vars(dir.path(), &[])).unwrap();
        assert_eq!(config.session_idle, Duration::from_secs(86_400));
        assert_eq!(
            error_var(&[("LEADBRIDGE_SESSION_IDLE_SECONDS", "999999999")]),
            "LEADBRIDGE_SESSION_IDLE_SECONDS"
        );
    }

    #[test]
    fn defaults_generate_keys_once_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let first = Config::from_vars(&vars(dir.path(), &[])).unwrap();
        let second = Config::from_vars(&vars(dir.path(), &[])).unwrap();
        assert_eq!(first.addr.to_string(), "127.0.0.1:8001");
        assert_eq!(first.data_key.expose(), second.data_key.expose());
        assert_eq!(first.jwt_secret.expose(), second.jwt_secret.expose());
        assert_eq!(first.razorpay.mode, PaymentsMode::Simulated);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("data_key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let fresh = dir.path().join("fresh/nested");
            let mut with_fresh = vars(dir.path(), &[]);
            with_fresh.insert("LEADBRIDGE_DATA_DIR".into(), fresh.display().to_string());
            Config::from_vars(&with_fresh).unwrap();
            let mode = fs::metadata(&fresh).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn scylla_urls_name_nodes_and_keyspace() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_vars(&vars(
            dir.path(),
            &[
                (
                    "LEADBRIDGE_DATABASE_URL",
                    "scylla://db1,db2:19042/leadbridge_prod",
                ),
                ("LEADBRIDGE_SCYLLA_DATACENTER", "dc1"),
            ],
        ))
        .unwrap();
        let DatabaseUrl::Scylla(scylla) = config.database else {
            panic!("not scylla");
        };
        assert_eq!(scylla.nodes, vec!["db1:9042", "db2:19042"]);
        assert_eq!(scylla.keyspace, "leadbridge_prod");
        assert_eq!(scylla.datacenter.as_deref(), Some("dc1"));
        assert!(scylla.replication.contains("NetworkTopologyStrategy"));
        for bad_url in [
            "scylla://db1",
            "scylla://db1/",
            "scylla:///ks",
            "scylla://db1/1ks",
            "scylla://db1/k-s",
        ] {
            assert_eq!(
                error_var(&[("LEADBRIDGE_DATABASE_URL", bad_url)]),
                "LEADBRIDGE_DATABASE_URL",
                "{bad_url}"
            );
        }
        assert_eq!(
            error_var(&[
                ("LEADBRIDGE_DATABASE_URL", "scylla://db1/ks"),
                ("LEADBRIDGE_SCYLLA_REPLICATION", "3; DROP KEYSPACE ks"),
            ]),
            "LEADBRIDGE_SCYLLA_REPLICATION"
        );
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        assert_eq!(error_var(&[("LEADBRIDGE_ADDR", "nope")]), "LEADBRIDGE_ADDR");
        assert_eq!(
            error_var(&[("LEADBRIDGE_DATABASE_URL", "mysql://x")]),
            "LEADBRIDGE_DATABASE_URL"
        );
        assert_eq!(
            error_var(&[("LEADBRIDGE_ADMIN_EMAIL", "a@b.co")]),
            "LEADBRIDGE_ADMIN_PASSWORD"
        );
        assert_eq!(
            error_var(&[
                ("LEADBRIDGE_ADMIN_EMAIL", "a@b.co"),
                ("LEADBRIDGE_ADMIN_PASSWORD", "short")
            ]),
            "LEADBRIDGE_ADMIN_PASSWORD"
        );
        assert_eq!(
            error_var(&[("LEADBRIDGE_JWT_SECRET", "tooshort")]),
            "LEADBRIDGE_JWT_SECRET"
        );
        assert_eq!(
            error_var(&[("LEADBRIDGE_DATA_KEY", "abcd")]),
            "LEADBRIDGE_DATA_KEY"
        );
        for bad_redis in ["localhost:6379", "rediss://cache.example.com:6380"] {
            assert_eq!(
                error_var(&[("LEADBRIDGE_REDIS_URL", bad_redis)]),
                "LEADBRIDGE_REDIS_URL"
            );
        }
        assert_eq!(
            error_var(&[("LEADBRIDGE_ALLOWED_ORIGINS", "ftp://x")]),
            "LEADBRIDGE_ALLOWED_ORIGINS"
        );
        assert_eq!(
            error_var(&[("LEADBRIDGE_PAYMENTS", "paypal")]),
            "LEADBRIDGE_PAYMENTS"
        );
        assert_eq!(
            error_var(&[("LEADBRIDGE_PAYMENTS", "razorpay")]),
            "RAZORPAY_KEY_ID"
        );
        assert_eq!(error_var(&[("RUST_LOG", "info,[[[")]), "RUST_LOG");
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            normalise_origin("https://App.Example.com/").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            normalise_origin("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(normalise_origin("null"), None);
    }

    #[test]
    fn data_key_accepts_hex_and_base64() {
        assert!(decode_key(&"ab".repeat(32)).is_some());
        assert!(decode_key(&base64::engine::general_purpose::STANDARD.encode([1u8; 32])).is_some());
        assert!(decode_key("zz").is_none());
    }
}
