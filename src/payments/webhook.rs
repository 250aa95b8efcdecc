//! Razorpay webhook bodies: only the fields we act on.

use serde::Deserialize;

/// What a webhook delivery asks us to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    /// `order.paid` or `payment.captured`: complete the payment of this order.
    Captured {
        order_id: String,
        payment_id: String,
    },
    /// `payment.failed`: an attempt on this order failed.
    Failed {
        order_id: String,
        payment_id: String,
    },
    /// An event we do not act on (acknowledged so Razorpay stops retrying).
    Ignored(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("webhook body is not a Razorpay event: {0}")]
pub struct WebhookParseError(pub String);

#[derive(Deserialize)]
struct Envelope {
    event: String,
    payload: Option<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    payment: Option<Wrapped>,
}

#[derive(Deserialize)]
struct Wrapped {
    entity: PaymentEntity,
}

#[derive(Deserialize)]
struct PaymentEntity {
    id: String,
    order_id: Option<String>,
}

pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookParseError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| WebhookParseError(e.to_string()))?;
    let payment = || {
        let entity = envelope
            .payload
            .as_ref()
            .and_then(|p| p.payment.as_ref())
            .map(|w| &w.entity)
            .ok_or_else(|| WebhookParseError("payload.payment.entity is missing".into()))?;
        let order_id = entity.order_id.clone().ok_or_else(|| {
            WebhookParseError("payload.payment.entity.order_id is missing".into())
        })?;
        Ok((order_id, entity.id.clone()))
    };
    match envelope.event.as_str() {
        "order.paid" | "payment.captured" => {
            let (order_id, payment_id) = payment()?;
            Ok(WebhookEvent::Captured {
                order_id,
                payment_id,
            })
        }
        "payment.failed" => {
            let (order_id, payment_id) = payment()?;
            Ok(WebhookEvent::Failed {
                order_id,
                payment_id,
            })
        }
        other => Ok(WebhookEvent::Ignored(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(event: &str) -> Vec<u8> {
        serde_json::json!({
            "entity": "event",
            "event": event,
            "payload": {"payment": {"entity": {"id": "pay_1", "order_id": "order_1", "status": "captured"}}}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn webhook_event_table() {
        let captured = WebhookEvent::Captured {
            order_id: "order_1".into(),
            payment_id: "pay_1".into(),
        };
        assert_eq!(parse(&body("order.paid")).unwrap(), captured);
        assert_eq!(parse(&body("payment.captured")).unwrap(), captured);
        assert_eq!(
            parse(&body("payment.failed")).unwrap(),
            WebhookEvent::Failed {
                order_id: "order_1".into(),
                payment_id: "pay_1".into()
            }
        );
        assert_eq!(
            parse(&body("refund.created")).unwrap(),
            WebhookEvent::Ignored("refund.created".into())
        );
        assert!(parse(b"{").is_err());
        assert!(parse(br#"{"event":"payment.captured","payload":{}}"#).is_err());
    }
}
