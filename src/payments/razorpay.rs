use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{GatewayError, GatewayOrder, OrderGateway};
use crate::config::RazorpaySettings;
use crate::crypto::Secret;
use crate::domain::money::{Paise, CURRENCY};

/// Razorpay's Orders API (`POST /v1/orders`, HTTP basic auth with the key id and secret).
pub struct RazorpayGateway {
    client: reqwest::Client,
    orders_url: String,
    key_id: String,
    key_secret: Secret,
}

#[derive(Deserialize)]
struct OrderBody {
    id: String,
    amount: i64,
    currency: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    description: String,
}

impl RazorpayGateway {
    pub fn new(settings: &RazorpaySettings) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()?;
        Ok(Self {
            client,
            orders_url: format!("{}/v1/orders", settings.api_base),
            key_id: settings.key_id.clone(),
            key_secret: settings.key_secret.clone(),
        })
    }
}

#[async_trait]
impl OrderGateway for RazorpayGateway {
    async fn create_order(
        &self,
        amount: Paise,
        receipt: &str,
        lead_id: &str,
    ) -> Result<GatewayOrder, GatewayError> {
        let secret = String::from_utf8_lossy(self.key_secret.expose()).into_owned();
        let response = self
            .client
            .post(&self.orders_url)
            .basic_auth(&self.key_id, Some(secret))
            .json(&json!({
                "amount": amount.value(),
                "currency": CURRENCY,
                "receipt": receipt,
                "notes": { "lead_id": lead_id },
            }))
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    GatewayError::Timeout
                } else {
                    GatewayError::Unavailable(e.to_string())
                }
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                GatewayError::Timeout
            } else {
                GatewayError::Unavailable(e.to_string())
            }
        })?;
        if status.is_success() {
            let order: OrderBody = serde_json::from_slice(&body)
                .map_err(|e| GatewayError::Unavailable(format!("unexpected order body: {e}")))?;
            if order.amount != amount.value() || order.currency != CURRENCY {
                return Err(GatewayError::Unavailable(format!(
                    "order {} came back with {} {} instead of {} {CURRENCY}",
                    order.id,
                    order.amount,
                    order.currency,
                    amount.value()
                )));
            }
            return Ok(GatewayOrder {
                order_id: order.id,
                amount,
                currency: order.currency,
            });
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(err) => Err(GatewayError::Rejected {
                code: err.error.code,
                description: err.error.description,
            }),
            Err(_) => Err(GatewayError::Unavailable(format!(
                "HTTP {status} without a Razorpay error body"
            ))),
        }
    }
}
