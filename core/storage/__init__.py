"""Where bytes live: DynamoDB item sizes, the S3 bucket, presigned uploads."""
