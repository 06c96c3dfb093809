-- labforge beginner lab: a small shop schema with data, loaded as the learner role so the learner
-- owns every table. The first exercises (CRUD, JOINs, indexes) start from these rows.

CREATE TABLE customers (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text        NOT NULL,
  email       text        NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text          NOT NULL,
  price_cents  integer       NOT NULL CHECK (price_cents >= 0),
  stock        integer       NOT NULL DEFAULT 0 CHECK (stock >= 0)
);

CREATE TABLE orders (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  bigint      NOT NULL REFERENCES customers (id),
  status       text        NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
  ordered_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
  order_id     bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id   bigint  NOT NULL REFERENCES products (id),
  quantity     integer NOT NULL CHECK (quantity > 0),
  price_cents  integer NOT NULL CHECK (price_cents >= 0),
  PRIMARY KEY (order_id, product_id)
);

INSERT INTO customers (name, email) VALUES
  ('Ada Lovelace', 'ada@example.com'),
  ('Alan Turing', 'alan@example.com'),
  ('Grace Hopper', 'grace@example.com'),
  ('Edsger Dijkstra', 'edsger@example.com'),
  ('Barbara Liskov', 'barbara@example.com');

INSERT INTO products (name, price_cents, stock) VALUES
  ('Mechanical keyboard', 8900, 12),
  ('USB-C cable', 1200, 140),
  ('27" monitor', 21900, 5),
  ('Laptop stand', 3400, 30),
  ('Noise-cancelling headphones', 17900, 8),
  ('Webcam', 5900, 0);

INSERT INTO orders (customer_id, status, ordered_at) VALUES
  (1, 'paid',      now() - interval '9 days'),
  (1, 'shipped',   now() - interval '30 days'),
  (2, 'new',       now() - interval '1 day'),
  (3, 'paid',      now() - interval '3 days'),
  (3, 'cancelled', now() - interval '12 days'),
  (4, 'shipped',   now() - interval '20 days');

INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES
  (1, 1, 1, 8900), (1, 2, 2, 1200),
  (2, 3, 1, 21900),
  (3, 4, 1, 3400), (3, 2, 1, 1200),
  (4, 5, 1, 17900),
  (5, 6, 1, 5900),
  (6, 1, 1, 8900), (6, 4, 2, 3400);
