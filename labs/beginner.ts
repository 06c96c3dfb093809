import type { LabSpec } from '../constructs/model/types.js';

/** Beginner: one server with PostgreSQL; HTTP, CRUD and a first endpoint. */
export const beginner: LabSpec = {
  level: 'beginner',
  title: 'Beginner: one server and a PostgreSQL database',
  summary: 'A single VM (locally: a single server process) running PostgreSQL with a seeded schema.',
  skills: [
    'Basic understanding of server-side programming languages (e.g., Python, Node.js, Java, Ruby).',
    'Familiarity with HTTP protocols, request/response cycles, and basic client-server architecture.',
    'Ability to set up a simple server using frameworks like Flask, Express, or Django.',
    'Basic understanding of databases (SQL or NoSQL) and how to perform CRUD operations (Create, Read, Update, Delete).',
    'Awareness of RESTful API concepts and how to create simple endpoints.',
  ],
  exampleTasks: [
    'Setting up a simple web server that responds to HTTP requests.',
    'Writing API endpoints that interact with a database.',
    'Implementing basic user authentication and handling form data.',
  ],
  components: [
    {
      kind: 'network',
      id: 'net',
      description: 'VPC with one public subnet, reachable only from --allow-cidr',
      azs: 1,
      privateSubnets: false,
    },
    {
      kind: 'vm',
      id: 'server',
      description: 'One VM (IMDSv2, encrypted disk); cloud-init installs PostgreSQL',
      instanceType: 't3.micro',
      diskGb: 20,
      role: 'postgres-host',
    },
    {
      kind: 'postgres',
      id: 'db',
      description: 'PostgreSQL 15 with database "lab", role "learner" and a seeded shop schema',
      version: '15',
      hostVm: 'server',
      shards: 1,
      replicas: 0,
      instanceClass: 'none',
      storageGb: 0,
      database: 'lab',
      user: 'learner',
    },
  ],
  regions: { min: 1, default: ['us-east-1'] },
  outputs: [
    { name: 'server_public_ip', description: 'Public IP of the lab VM', sensitive: false },
    { name: 'postgres_url', description: 'postgres://learner@<ip>:5432/lab (password: `labforge secrets`)', sensitive: false },
    { name: 'postgres_password', description: 'Generated password of the learner role', sensitive: true },
  ],
  exercises: [
    {
      id: 'beginner-sql-crud',
      title: 'CRUD in SQL on the seeded shop schema',
      skills: [3],
      steps: [
        'Connect with psql using the connection string `labforge up` printed.',
        'INSERT a customer, SELECT it back, UPDATE its email, DELETE it.',
        'Create a table `reviews` with a primary key, a NOT NULL column and a foreign key to products.',
        'Write a JOIN listing each order with its customer name and save it as the view `order_customers`.',
        'Add an index on orders(customer_id) and compare EXPLAIN before and after.',
      ],
    },
    {
      id: 'beginner-web-server',
      title: 'A web server that answers HTTP requests',
      task: 'Setting up a simple web server that responds to HTTP requests.',
      skills: [0, 1, 2],
      steps: [
        'In the language you know (Node.js, Python, Java, Ruby), start an Express, Flask or Django app on port 8080.',
        'Answer GET /hello with JSON; call it with curl -v and read the request line, headers and status.',
        'Return 404 for unknown paths and 405 for a wrong method (e.g. DELETE /hello); check both with curl.',
      ],
    },
    {
      id: 'beginner-api-db',
      title: 'REST endpoints backed by the database',
      task: 'Writing API endpoints that interact with a database.',
      skills: [3, 4],
      steps: [
        'Add GET /products (list) and GET /products/:id (one, 404 when missing) reading from the lab database.',
        'Add POST /products (JSON body: name, price_cents, stock; 201 + Location header), PUT /products/:id and DELETE /products/:id.',
        'Use parameterised queries only; show that a name containing a quote is stored as typed.',
      ],
    },
    {
      id: 'beginner-auth-forms',
      title: 'Sign-up and login with a form',
      task: 'Implementing basic user authentication and handling form data.',
      skills: [1, 2, 4],
      steps: [
        'Create a users table with a unique email and a password hash column (bcrypt or scrypt, never plain text).',
        'Accept POST /signup and POST /login as application/x-www-form-urlencoded; answer 400 on missing fields.',
        'Return 401 on a wrong password and set a session cookie (HttpOnly) on success.',
      ],
    },
  ],
};
