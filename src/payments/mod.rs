//! Razorpay: order creation (real API or simulated), checkout and webhook signatures, and
//! webhook parsing. Everything here is stateless; the store records what happened.

mod razorpay;
pub mod signature;
mod simulated;
pub mod webhook;

use std::sync::Arc;

use async_trait::async_trait;

pub use razorpay::RazorpayGateway;
pub use simulated::SimulatedGateway;

use crate::config::{PaymentsMode, RazorpaySettings};
use crate::domain::money::Paise;

/// An order as the gateway made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayOrder {
    pub order_id: String,
    pub amount: Paise,
    pub currency: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the payment gateway did not answer in time")]
    Timeout,
    /// Razorpay answered with its error body (`{"error": {"code", "description"}}`).
    #[error("the payment gateway refused the order: {description}")]
    Rejected { code: String, description: String },
    #[error("the payment gateway is unreachable or answered nonsense: {0}")]
    Unavailable(String),
}

/// Creates orders: Razorpay's Orders API, or a local simulation with the same shape.
#[async_trait]
pub trait OrderGateway: Send + Sync + 'static {
    /// `receipt` is our payment id (Razorpay shows it in its dashboard).
    async fn create_order(
        &self,
        amount: Paise,
        receipt: &str,
        lead_id: &str,
    ) -> Result<GatewayOrder, GatewayError>;
}

/// The payment side of the app: the gateway plus the keys that sign and check.
#[derive(Clone)]
pub struct Payments {
    pub settings: RazorpaySettings,
    pub gateway: Arc<dyn OrderGateway>,
}

impl Payments {
    pub fn new(settings: RazorpaySettings) -> anyhow::Result<Self> {
        let gateway: Arc<dyn OrderGateway> = match settings.mode {
            PaymentsMode::Simulated => Arc::new(SimulatedGateway),
            PaymentsMode::Razorpay => Arc::new(RazorpayGateway::new(&settings)?),
        };
        Ok(Self { settings, gateway })
    }

    pub fn is_simulated(&self) -> bool {
        self.settings.mode == PaymentsMode::Simulated
    }
}
