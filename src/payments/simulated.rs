use async_trait::async_trait;

use super::{GatewayError, GatewayOrder, OrderGateway};
use crate::domain::ids;
use crate::domain::money::{Paise, CURRENCY};

/// `LEADBRIDGE_PAYMENTS=simulated`: orders are made locally with Razorpay-shaped ids, and
/// the checkout is completed by `POST /api/payments/simulated-checkout`, which signs with
/// the same HMAC formula and secret that `/api/payments/verify` checks.
pub struct SimulatedGateway;

#[async_trait]
impl OrderGateway for SimulatedGateway {
    async fn create_order(
        &self,
        amount: Paise,
        _receipt: &str,
        _lead_id: &str,
    ) -> Result<GatewayOrder, GatewayError> {
        Ok(GatewayOrder {
            order_id: ids::new_id(ids::ORDER),
            amount,
            currency: CURRENCY.to_string(),
        })
    }
}
