# Local-stack environment, sourced by scripts/run and scripts/test.
# Only defaults: anything already set in the environment wins.
export MOTO_SQS_PORT=${MOTO_SQS_PORT:-4566}
export MOTO_DYNAMODB_PORT=${MOTO_DYNAMODB_PORT:-4567}
export API_PORT=${API_PORT:-8000}
export FLOWER_PORT=${FLOWER_PORT:-5555}
export WORKER_METRICS_PORT=${WORKER_METRICS_PORT:-9101}
# moto accepts any credentials; these never reach AWS because of the endpoints below.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-http://127.0.0.1:$MOTO_SQS_PORT}
export AWS_ENDPOINT_URL_DYNAMODB=${AWS_ENDPOINT_URL_DYNAMODB:-http://127.0.0.1:$MOTO_DYNAMODB_PORT}
export BATCHLAB_FLOWER_URL=${BATCHLAB_FLOWER_URL:-http://127.0.0.1:$FLOWER_PORT}
export PYTHONUNBUFFERED=1
