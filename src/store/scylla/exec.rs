//! Running statements: bind values, reads, lightweight transactions and logged batches,
//! and the one mapping of driver errors to `StoreError`.

use scylla::deserialize::row::DeserializeRow;
use scylla::errors::{DbError, ExecutionError, RequestAttemptError};
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::unprepared::Statement;
use scylla::statement::Consistency;
use scylla::value::{Counter, CqlValue, Row};

use super::ScyllaStore;
use crate::store::{StoreError, StoreResult};

/// One statement's bind values; `None` binds null.
pub type Values = Vec<Option<CqlValue>>;

/// A Rust value as a CQL bind value.
pub trait Cql {
    fn cql(self) -> Option<CqlValue>;
}

impl Cql for &str {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Text(self.to_string()))
    }
}

impl Cql for &String {
    fn cql(self) -> Option<CqlValue> {
        self.as_str().cql()
    }
}

impl Cql for String {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Text(self))
    }
}

impl Cql for i64 {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::BigInt(self))
    }
}

impl Cql for bool {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Boolean(self))
    }
}

impl Cql for i32 {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Int(self))
    }
}

impl Cql for Vec<u8> {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Blob(self))
    }
}

impl Cql for &[String] {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::List(
            self.iter().map(|s| CqlValue::Text(s.clone())).collect(),
        ))
    }
}

impl<T: Cql> Cql for Option<T> {
    fn cql(self) -> Option<CqlValue> {
        self.and_then(Cql::cql)
    }
}

/// A counter increment (`value = value + ?`).
pub struct Delta(pub i64);

impl Cql for Delta {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Counter(Counter(self.0)))
    }
}

/// A TTL in seconds (`USING TTL ?` binds an int).
pub struct Ttl(pub i64);

impl Cql for Ttl {
    fn cql(self) -> Option<CqlValue> {
        Some(CqlValue::Int(self.0.clamp(1, i64::from(i32::MAX)) as i32))
    }
}

/// Driver failures: overload and timeouts are `Busy` (retry later), the rest a backend
/// failure. A lightweight transaction that timed out may or may not have applied; callers
/// that retry re-read first.
pub fn failure(err: impl Into<ExecutionError>) -> StoreError {
    let err: ExecutionError = err.into();
    let busy = matches!(
        &err,
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::Unavailable { .. }
                | DbError::Overloaded
                | DbError::ReadTimeout { .. }
                | DbError::WriteTimeout { .. }
                | DbError::RateLimitReached { .. },
            _,
        )) | ExecutionError::RequestTimeout(_)
    );
    if busy {
        StoreError::Busy
    } else {
        StoreError::Backend(anyhow::Error::new(err).context("scylla"))
    }
}

fn unreadable(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(anyhow::Error::new(err).context("reading a ScyllaDB result"))
}

impl ScyllaStore {
    /// Runs a write (or any statement whose result is not needed).
    pub(super) async fn run(&self, cql: &'static str, values: Values) -> StoreResult<()> {
        self.inner
            .session
            .execute_unpaged(cql, values)
            .await
            .map_err(failure)?;
        Ok(())
    }

    /// Every row of a single-partition read.
    pub(super) async fn rows<R>(&self, cql: &'static str, values: Values) -> StoreResult<Vec<R>>
    where
        R: for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        self.rows_with(Statement::new(cql), values).await
    }

    /// A read at SERIAL: sees the outcome of every lightweight transaction, including
    /// one still in progress, so a decision made on it is not based on a stale row.
    pub(super) async fn rows_serial<R>(
        &self,
        cql: &'static str,
        values: Values,
    ) -> StoreResult<Vec<R>>
    where
        R: for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        let mut statement = Statement::new(cql);
        statement.set_consistency(Consistency::Serial);
        self.rows_with(statement, values).await
    }

    async fn rows_with<R>(&self, statement: Statement, values: Values) -> StoreResult<Vec<R>>
    where
        R: for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        let result = self
            .inner
            .session
            .execute_unpaged(statement, values)
            .await
            .map_err(failure)?
            .into_rows_result()
            .map_err(unreadable)?;
        let rows = result
            .rows::<R>()
            .map_err(unreadable)?
            .collect::<Result<Vec<R>, _>>()
            .map_err(unreadable)?;
        Ok(rows)
    }

    /// The row of a look-up by key, if any.
    pub(super) async fn one<R>(&self, cql: &'static str, values: Values) -> StoreResult<Option<R>>
    where
        R: for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        Ok(self.rows(cql, values).await?.into_iter().next())
    }

    pub(super) async fn one_serial<R>(
        &self,
        cql: &'static str,
        values: Values,
    ) -> StoreResult<Option<R>>
    where
        R: for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        Ok(self.rows_serial(cql, values).await?.into_iter().next())
    }

    /// Runs a lightweight transaction; answers whether it applied (`[applied]`).
    pub(super) async fn cas(&self, cql: &'static str, values: Values) -> StoreResult<bool> {
        let result = self
            .inner
            .session
            .execute_unpaged(cql, values)
            .await
            .map_err(failure)?
            .into_rows_result()
            .map_err(unreadable)?;
        let row = result.maybe_first_row::<Row>().map_err(unreadable)?;
        match row.and_then(|r| r.columns.into_iter().next().flatten()) {
            Some(CqlValue::Boolean(applied)) => Ok(applied),
            other => Err(StoreError::Backend(anyhow::anyhow!(
                "a conditional write answered {other:?} instead of [applied]"
            ))),
        }
    }

    /// Writes the rows of one change together (a logged batch: all or none, eventually).
    pub(super) async fn batch(&self, writes: Vec<(&'static str, Values)>) -> StoreResult<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new(BatchType::Logged);
        let mut values = Vec::with_capacity(writes.len());
        for (cql, row) in writes {
            batch.append_statement(cql);
            values.push(row);
        }
        self.inner
            .session
            .batch(&batch, values)
            .await
            .map_err(failure)?;
        Ok(())
    }
}

/// A short random pause between lost compare-and-set rounds, so contenders spread out.
pub(super) async fn back_off() {
    let millis = rand::Rng::gen_range(&mut rand::thread_rng(), 1..=10);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}
