// Health probes shared by every target: each takes an endpoint, not a local process.
export { withRetry, QUICK, STARTING, type ProbeResult, type RetryPolicy } from './probe.js';
export { probePostgres, type PostgresEndpoint } from './postgres.js';
export { probeRedis, type RedisEndpoint } from './redis.js';
export { probeApi, type ApiEndpoint } from './http.js';
export { probeAmqp, amqpEndpointUrl, type AmqpEndpoint } from './amqp.js';
export { probeRabbitManagement, type ManagementEndpoint } from './rabbitmq-management.js';
export { probeBalancer, getInstance, type BalancerEndpoint } from './balancer.js';
export { probeJobs, type JobsEndpoint } from './jobs.js';
