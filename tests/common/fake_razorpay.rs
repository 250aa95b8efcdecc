//! A local stand-in for Razorpay's Orders API that answers in its documented wire format.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Behaviour {
    /// 200 with an order entity.
    Succeed,
    /// 400 with Razorpay's error body.
    RejectAmount,
    /// Never answers within the client's timeout.
    Hang,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub authorization: Option<String>,
    pub body: Value,
}

pub struct FakeRazorpay {
    pub base_url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeRazorpay {
    pub async fn start(behaviour: Behaviour) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = Arc::clone(&received);
        let server = HttpServer::new(move || {
            let log = Arc::clone(&log);
            App::new().route(
                "/v1/orders",
                web::post().to(move |req: HttpRequest, body: web::Json<Value>| {
                    let log = Arc::clone(&log);
                    async move {
                        log.lock().unwrap().push(Received {
                            authorization: req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string),
                            body: body.0.clone(),
                        });
                        match behaviour {
                            Behaviour::Succeed => HttpResponse::Ok().json(json!({
                                "id": format!("order_fake{}", log.lock().unwrap().len()),
                                "entity": "order",
                                "amount": body.0["amount"],
                                "amount_paid": 0,
                                "amount_due": body.0["amount"],
                                "currency": body.0["currency"],
                                "receipt": body.0["receipt"],
                                "status": "created",
                                "attempts": 0,
                                "notes": body.0["notes"],
                                "created_at": 1_700_000_000
                            })),
                            Behaviour::RejectAmount => HttpResponse::BadRequest().json(json!({
                                "error": {
                                    "code": "BAD_REQUEST_ERROR",
                                    "description": "Order amount less than minimum amount allowed",
                                    "source": "business",
                                    "step": "payment_initiation",
                                    "reason": "input_validation_failed",
                                    "metadata": {},
                                    "field": "amount"
                                }
                            })),
                            Behaviour::Hang => {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                                HttpResponse::Ok().finish()
                            }
                        }
                    }
                }),
            )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind fake razorpay");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            received,
            handle,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
