//! InitProducerId: fresh ids for idempotent producers. Transactions are not supported yet.

use streamhouse_kafka_proto::ErrorCode;
use streamhouse_kafka_proto::messages::{
    InitProducerIdRequest, InitProducerIdResponse, ProducerId,
};

use crate::error::to_error_code;
use crate::listener::ServerContext;

pub(crate) async fn handle(
    context: &ServerContext,
    _version: i16,
    request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let response = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    if request.transactional_id.is_some() {
        // Transactions come later; a transactional producer must hear no, not a fake id.
        return response.with_error_code(ErrorCode::TransactionalIdAuthorizationFailed.code());
    }
    match context.engine.allocate_producer_id().await {
        Ok(id) => response
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(0),
        Err(error) => {
            tracing::warn!(%error, "InitProducerId failed");
            response.with_error_code(to_error_code(&error).code())
        }
    }
}
