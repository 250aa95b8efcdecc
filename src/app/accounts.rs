//! Closing an account, and ending an account's sessions.

use leadbridge_actors::node::Selector;
use leadbridge_actors::protocol::close;

use crate::domain::ids::UserId;
use crate::state::AppState;

use super::AppResult;

/// How long a closed account's sockets may outlive it if the relay is slow to tell them
/// (normally it announces the closing and closes them within milliseconds).
const CLOSE_AT_THE_LATEST: std::time::Duration = std::time::Duration::from_secs(5);

/// Closes the account (the caller has re-authenticated its owner): live bookings are
/// cancelled, sessions end; the relay then tells the account's pages and closes them. Its
/// sessions are gone from the store already, so nothing new is let in meanwhile; should the
/// relay lag (a lease changing hands, the bus away), the sockets close here anyway.
pub async fn close_account(state: &AppState, user_id: &UserId) -> AppResult<()> {
    state
        .store
        .close_account(user_id, state.clock.now())
        .await?;
    tracing::info!(user_id = %user_id, "account closed");
    let realtime = state.realtime.clone();
    let selector = Selector::User(user_id.to_string());
    tokio::spawn(async move {
        tokio::time::sleep(CLOSE_AT_THE_LATEST).await;
        realtime.close(selector, close::SESSION_ENDED).await;
    });
    Ok(())
}

/// Ends every session of the user, HTTP and sockets (sign out everywhere, a rejected
/// mentor); answers how many sessions ended.
pub async fn end_all_sessions(state: &AppState, user_id: &UserId) -> AppResult<usize> {
    let ended = state.store.end_user_sessions(user_id).await?;
    state
        .realtime
        .close(Selector::User(user_id.to_string()), close::SESSION_ENDED)
        .await;
    Ok(ended.len())
}
