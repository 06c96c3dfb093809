import type { LabSpec } from '../constructs/model/types.js';

/** Intermediate: an API with users and JWT, a relational database, a cache and uploads. */
export const intermediate: LabSpec = {
  level: 'intermediate',
  title: 'Intermediate: a REST API with PostgreSQL, Redis and JWT auth',
  summary: 'An app server, a private PostgreSQL, a Redis cache and an uploads bucket; locally a starter API runs against them.',
  skills: [
    'Proficient in designing and implementing RESTful APIs with CRUD functionality.',
    'Understanding of relational databases (e.g., MySQL, PostgreSQL) and NoSQL databases (e.g., MongoDB, Redis), including schema design, relationships, and indexing.',
    'Familiar with middleware, routing, and handling file uploads.',
    'Knowledge of authentication methods like OAuth, JWT, and sessions.',
    'Experience with version control systems (e.g., Git) and basic knowledge of continuous integration and deployment (CI/CD).',
  ],
  exampleTasks: [
    'Developing an API for user management (e.g., authentication, authorization).',
    'Designing a relational database schema and optimizing queries.',
    'Setting up middleware for logging, error handling, and security in a web application.',
    'Connecting your backend with external services via APIs (e.g., payment gateways, third-party APIs).',
  ],
  components: [
    { kind: 'network', id: 'net', description: 'VPC over 2 AZs, public and private subnets, one NAT gateway', azs: 2, privateSubnets: true },
    { kind: 'vm', id: 'app', description: 'App VM that runs the starter API', instanceType: 't3.small', diskGb: 20, role: 'app-host' },
    {
      kind: 'postgres',
      id: 'db',
      description: 'PostgreSQL 15 (RDS in private subnets; locally a server process)',
      version: '15',
      shards: 1,
      replicas: 0,
      instanceClass: 'db.t3.micro',
      storageGb: 20,
      database: 'lab',
      user: 'learner',
    },
    { kind: 'redis', id: 'cache', description: 'Redis 7 cache for read-through caching', nodeType: 'cache.t3.micro' },
    { kind: 'bucket', id: 'uploads', description: 'S3 bucket for file uploads (private, encrypted)', purpose: 'uploads' },
    {
      kind: 'service',
      id: 'api',
      description: 'Starter REST API: users, JWT login, notes CRUD, cached reads, pagination',
      program: 'api',
      instances: 1,
      port: 8080,
      uses: ['db', 'cache', 'uploads'],
    },
  ],
  regions: { min: 1, default: ['us-east-1'] },
  outputs: [
    { name: 'app_public_ip', description: 'Public IP of the app VM', sensitive: false },
    { name: 'postgres_endpoint', description: 'RDS endpoint (private: reachable from the app VM)', sensitive: false },
    { name: 'redis_endpoint', description: 'ElastiCache endpoint (private)', sensitive: false },
    { name: 'uploads_bucket', description: 'Name of the uploads bucket', sensitive: false },
    { name: 'postgres_password', description: 'Generated database password', sensitive: true },
    { name: 'redis_auth_token', description: 'Generated Redis AUTH token', sensitive: true },
  ],
  exercises: [
    {
      id: 'intermediate-user-api',
      title: 'User management API with JWT',
      task: 'Developing an API for user management (e.g., authentication, authorization).',
      skills: [0, 3],
      steps: [
        'Register a user with POST /auth/register and log in with POST /auth/login to get a JWT.',
        'Call GET /me with `Authorization: Bearer <token>`; call it without the header and see 401.',
        'Add an `admin` role: only admins may list all users (403 for others).',
        'Add GET /notes?limit=&offset= pagination and return the total in a header.',
      ],
    },
    {
      id: 'intermediate-schema',
      title: 'Schema design and query optimisation',
      task: 'Designing a relational database schema and optimizing queries.',
      skills: [1],
      steps: [
        'Design tags for notes as a many-to-many relation with foreign keys and a unique pair constraint.',
        'Find the slow query (notes of one user ordered by date) with EXPLAIN ANALYZE, add the right index, measure again.',
        'Cache GET /notes/:id in Redis with a TTL; show the second call is a cache hit (X-Cache: HIT).',
      ],
    },
    {
      id: 'intermediate-middleware',
      title: 'Middleware for logging, errors and security',
      task: 'Setting up middleware for logging, error handling, and security in a web application.',
      skills: [2],
      steps: [
        'Add request logging with a request id header echoed in responses.',
        'Turn thrown errors into JSON problem responses with the right status codes.',
        'Add security headers and a rate limit on /auth/login.',
        'Accept a file upload (multipart) and store it in the uploads bucket (locally: a directory).',
      ],
    },
    {
      id: 'intermediate-external',
      title: 'Calling an external service',
      task: 'Connecting your backend with external services via APIs (e.g., payment gateways, third-party APIs).',
      skills: [0, 2],
      steps: [
        'Write a client for a payment provider stub with a timeout, retries with backoff and an idempotency key.',
        'Verify a webhook signature (HMAC) before trusting its body.',
      ],
    },
    {
      id: 'intermediate-git-ci',
      title: 'Version control and CI',
      skills: [4],
      steps: [
        'Put the API under Git with a .gitignore that keeps secrets out.',
        'Write a CI job that installs, runs the tests against a throwaway PostgreSQL and fails on a red test.',
      ],
    },
  ],
};
