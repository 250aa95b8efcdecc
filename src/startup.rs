//! Building and running the application, the same way for `main` and for tests.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{from_fn, Logger};
use actix_web::{web, App};
use anyhow::Context;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::device_cookie::DeviceCookies;
use crate::auth::google::GoogleClient;
use crate::auth::jwt::AccessTokens;
use crate::auth::password_pool::PasswordPool;
use crate::auth::SessionPolicy;
use crate::clock::{Clock, SystemClock};
use crate::config::{AdminBootstrap, Config, DatabaseUrl};
use crate::crypto::Vault;
use crate::domain::user::Role;
use crate::http::{self, csrf, json};
use crate::limits::RateLimiter;
use crate::payments::Payments;
use crate::realtime::Realtime;
use crate::state::AppState;
use crate::store::scylla::ScyllaStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Conflict, Store, StoreError};
use leadbridge_actors::node::Selector;
use leadbridge_actors::protocol::close;

/// Makes the configured admin account exist with the configured password. An unchanged
/// password leaves the account (and its sessions) alone; a new one ends its sessions.
async fn bootstrap_admin(
    store: &dyn Store,
    passwords: &PasswordPool,
    admin: &AdminBootstrap,
) -> anyhow::Result<()> {
    let secret = String::from_utf8_lossy(admin.password.expose()).into_owned();
    if let Some(existing) = store.credentials_by_email(&admin.email).await? {
        let stored = existing.password_hash.clone();
        let unchanged = passwords.verify(secret.clone(), Some(stored)).await?;
        if unchanged && existing.user.role == Role::Admin {
            tracing::info!(user_id = %existing.user.user_id, "bootstrap admin ready");
            return Ok(());
        }
    }
    let hash = passwords.hash(secret).await?;
    match store.upsert_admin(&admin.email, "Administrator", &hash).await {
        Ok(user) => {
            tracing::info!(user_id = %user.user_id, "bootstrap admin ready (password set)");
            Ok(())
        }
        Err(StoreError::Conflict(Conflict::AdminEmailInUse)) => Err(anyhow::anyhow!(
            "LEADBRIDGE_ADMIN_EMAIL: {} belongs to a learner or mentor account; choose another e-mail",
            admin.email
        )),
        Err(other) => Err(other.into()),
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    sweeper: tokio::task::JoinHandle<()>,
    relay: crate::relay::RelayTask,
}

impl Application {
    /// Opens the store (creating the schema), bootstraps the admin, binds the address.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// `build` with a clock of the caller's (tests advance a manual one).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        for warning in &config.warnings {
            tracing::warn!("{warning}");
        }
        // First: an address in use stops the start before anything is opened or started.
        let listener =
            TcpListener::bind(config.addr).with_context(|| format!("binding {}", config.addr))?;
        let store: Arc<dyn Store> = match &config.database {
            DatabaseUrl::Sqlite(path) => {
                let vault = Vault::new(&config.data_key);
                let path = path.clone();
                Arc::new(
                    tokio::task::spawn_blocking(move || SqliteStore::open(&path, vault))
                        .await
                        .context("opening the store")??,
                )
            }
            DatabaseUrl::Scylla(scylla) => Arc::new(
                ScyllaStore::connect(scylla, Vault::new(&config.data_key))
                    .await
                    .context("opening the ScyllaDB store")?,
            ),
        };
        let passwords = PasswordPool::new(config.password_hashing)?;
        if let Some(admin) = &config.admin {
            bootstrap_admin(store.as_ref(), &passwords, admin).await?;
        }
        let sessions = SessionPolicy::new(config.session_idle);
        let realtime = Realtime::start(
            Arc::clone(&store),
            Arc::clone(&clock),
            sessions,
            config.socket_limits,
            config.history,
            config.redis_url.as_deref(),
        )
        .await?;
        let sweeper = tokio::spawn(housekeeping(
            Arc::clone(&store),
            realtime.clone(),
            Arc::clone(&clock),
        ));
        let state = web::Data::new(AppState {
            clock,
            realtime,
            store,
            tokens: AccessTokens::new(&config.jwt_secret),
            devices: DeviceCookies::new(&config.jwt_secret),
            payments: Payments::new(config.razorpay.clone())?,
            allowed_origins: config.allowed_origins.clone(),
            limits: if config.rate_limits {
                RateLimiter::new(config.redis_url.as_deref())?
            } else {
                RateLimiter::off()
            },
            trust_forwarded_for: config.trust_forwarded_for,
            sessions,
            body_timeout: config.connections.body,
            passwords,
            google: config
                .google
                .clone()
                .map(GoogleClient::new)
                .transpose()?
                .map(Arc::new),
        });

        let port = listener.local_addr()?.port();
        // The spec is collected once from the route table. Swagger UI (which also serves
        // `/api/openapi.json`) is registered before the `/api` scope, which would otherwise
        // answer 404 for that path.
        let (_, mut api) = App::new()
            .into_utoipa_app()
            .openapi(http::ApiDoc::openapi())
            .configure(http::routes)
            .split_for_parts();
        http::document_common_responses(&mut api);
        let route_table = web::Data::new(http::RouteTable::from_description(&api));
        let app_state = state.clone();
        let server = crate::net::serve(listener, config.connections, move || {
            let api = api.clone();
            App::new()
                .into_utoipa_app()
                .map(|app| {
                    app.app_data(app_state.clone())
                        .app_data(route_table.clone())
                        .app_data(json::path_config())
                        .route("/docs", web::get().to(http::docs_redirect))
                        .service(SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", api))
                })
                .configure(http::routes)
                .into_app()
                .default_service(web::to(http::web::fallback))
                .wrap(from_fn(csrf::guard))
                .wrap(from_fn(http::deadline::guard))
                .wrap(from_fn(http::headers::secure))
                .wrap(
                    // A WebSocket's response lasts as long as the socket, and the logger
                    // would hold its per-request state (and log) only at the end of it.
                    Logger::new("%U %s %Dms")
                        .exclude("/healthz")
                        .exclude("/readyz")
                        .exclude("/api/ws"),
                )
        })?;
        tracing::info!(%port, "listening");
        // Last: nothing after it can fail and leave it running, holding the lease.
        let relay = crate::relay::start(Arc::clone(&state.store), state.realtime.clone());
        Ok(Self {
            port,
            server,
            state,
            sweeper,
            relay,
        })
    }

    /// The bound port (useful when the address asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from outside (tests restart it on the same data).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            server: self.server.handle(),
            realtime: self.state.realtime.clone(),
        }
    }

    /// The shared state, for tests that inspect the store directly.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.state.store)
    }

    /// Serves until SIGINT/SIGTERM or [`ShutdownHandle::shutdown`] (graceful: sockets get
    /// close 1001, in-flight requests finish).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let on_signal = self.shutdown_handle();
        let signals = tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            on_signal.shutdown().await;
        });
        let result = self.server.await;
        signals.abort();
        self.sweeper.abort();
        self.relay.stop().await;
        self.state.realtime.stop();
        result
    }
}

/// Stops one application gracefully.
#[derive(Clone)]
pub struct ShutdownHandle {
    server: ServerHandle,
    realtime: Realtime,
}

impl ShutdownHandle {
    pub async fn shutdown(&self) {
        self.realtime
            .close_here(Selector::All, close::GOING_AWAY)
            .await;
        self.server.stop(true).await;
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// How often expired review claims are released (and announced), old history dropped and
/// this node's presence refreshed for the others.
const HOUSEKEEPING: std::time::Duration = std::time::Duration::from_secs(5);

async fn housekeeping(store: Arc<dyn Store>, realtime: Realtime, clock: Arc<dyn Clock>) {
    let mut tick = tokio::time::interval(HOUSEKEEPING);
    loop {
        tick.tick().await;
        realtime.services.bus.housekeeping().await;
        if let Err(e) = store.expire_claims(clock.now()).await {
            tracing::warn!(error = ?e, "claim sweep failed");
        }
    }
}
