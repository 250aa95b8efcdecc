//! The bus: carries published events to the nodes that have subscribers, and keeps each
//! topic's offset, epoch and bounded history so a reconnecting client can recover.
//!
//! Two implementations: [`MemoryBus`] for a single node, [`RedisBus`] when several nodes
//! share the work.

mod interface;
mod memory;
mod redis;

pub use self::interface::*;
pub use self::memory::MemoryBus;
pub use self::redis::RedisBus;
