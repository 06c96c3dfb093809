// On-demand AWS prices (USD) in us-east-1, Linux, taken from the public AWS price pages on
// 2026-11-02. Per-GB-month prices are turned into per-hour with 730 hours a month.
// Other regions are estimated with REGION_FACTOR; this is a budget envelope, not a bill.

export const PRICES_TAKEN_ON = '2026-11-02';
export const PRICES_REGION = 'us-east-1';
export const HOURS_PER_MONTH = 730;

export const HOURLY: Record<string, number> = {
  // EC2
  't3.micro': 0.0104,
  't3.small': 0.0208,
  't3.medium': 0.0416,
  // RDS for PostgreSQL, single-AZ
  'db.t3.micro': 0.018,
  'db.t3.small': 0.036,
  'db.t3.medium': 0.072,
  // ElastiCache for Redis
  'cache.t3.micro': 0.017,
  // Amazon MQ for RabbitMQ
  'mq.t3.micro': 0.0274,
  // MSK broker
  'kafka.t3.small': 0.0456,
  // fixed per-resource hourly charges
  'eks-cluster': 0.1,
  'nat-gateway': 0.045,
  'public-ipv4': 0.005,
};

export const PER_GB_MONTH: Record<string, number> = {
  'ebs-gp3': 0.08,
  'rds-gp2': 0.115,
  'msk-storage': 0.1,
};

/** Route 53: a hosted zone and each health check are billed monthly. */
export const PER_MONTH: Record<string, number> = {
  'route53-zone': 0.5,
  'route53-health-check': 0.5,
};

/** Rough price level of a region relative to us-east-1. */
export const REGION_FACTOR: Record<string, number> = {
  'us-east-1': 1,
  'us-east-2': 1,
  'us-west-2': 1,
  'us-west-1': 1.15,
  'ca-central-1': 1.1,
  'eu-west-1': 1.1,
  'eu-west-2': 1.15,
  'eu-west-3': 1.15,
  'eu-central-1': 1.15,
  'eu-north-1': 1.05,
  'ap-south-1': 1.05,
  'ap-northeast-1': 1.25,
  'ap-northeast-2': 1.2,
  'ap-southeast-1': 1.2,
  'ap-southeast-2': 1.2,
  'sa-east-1': 1.5,
};
