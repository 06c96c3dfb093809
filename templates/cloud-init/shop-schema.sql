-- A small shop for the beginner exercises: customers place orders of products.
CREATE TABLE IF NOT EXISTS customers (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL,
  email       text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS products (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL,
  price_cents  integer NOT NULL CHECK (price_cents >= 0),
  stock        integer NOT NULL DEFAULT 0 CHECK (stock >= 0)
);

CREATE TABLE IF NOT EXISTS orders (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  bigint NOT NULL REFERENCES customers (id),
  product_id   bigint NOT NULL REFERENCES products (id),
  quantity     integer NOT NULL CHECK (quantity > 0),
  ordered_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO customers (name, email)
SELECT * FROM (VALUES ('Ada Lovelace', 'ada@example.com'), ('Alan Turing', 'alan@example.com'), ('Grace Hopper', 'grace@example.com')) AS v
WHERE NOT EXISTS (SELECT 1 FROM customers);

INSERT INTO products (name, price_cents, stock)
SELECT * FROM (VALUES ('Keyboard', 4900, 10), ('Mouse', 1900, 25), ('Monitor', 18900, 5), ('USB cable', 500, 100)) AS v
WHERE NOT EXISTS (SELECT 1 FROM products);

INSERT INTO orders (customer_id, product_id, quantity)
SELECT c.id, p.id, 1 FROM customers c JOIN products p ON p.name IN ('Keyboard', 'Mouse')
WHERE NOT EXISTS (SELECT 1 FROM orders);
