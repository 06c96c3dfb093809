import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../constructs/model/cost.js';
import { HOURLY } from '../../constructs/model/prices.js';
import { getLab } from '../../labs/index.js';

describe('estimateCost', () => {
  it('prices the beginner VM from the table', () => {
    const cost = estimateCost(getLab('beginner'), ['us-east-1']);
    const vm = cost.lines.find((l) => l.item.startsWith('EC2 t3.micro'));
    expect(vm?.hourly).toBeCloseTo(HOURLY['t3.micro']! + HOURLY['public-ipv4']!, 6);
    expect(cost.hourly).toBeGreaterThan(0.01);
    expect(cost.hourly).toBeLessThan(0.05);
  });

  it('scales the total by participants and hours', () => {
    const one = estimateCost(getLab('intermediate'), ['us-east-1']);
    const room = estimateCost(getLab('intermediate'), ['us-east-1'], 20, 3);
    expect(room.total).toBeCloseTo(one.hourly * 60, 6);
  });

  it('repeats regional items per region and spreads shards over regions', () => {
    const two = estimateCost(getLab('expert'), ['us-east-1', 'eu-west-1']);
    const three = estimateCost(getLab('expert'), ['us-east-1', 'eu-west-1', 'eu-central-1']);
    const eks = (c: typeof two) => c.lines.filter((l) => l.item.startsWith('EKS control plane')).length;
    expect(eks(two)).toBe(2);
    expect(eks(three)).toBe(3);
    // 2 shards x (1 primary + 1 replica) = 4 database instances in total, whatever the region count.
    const dbInstances = (c: typeof two) => c.lines.filter((l) => l.item.startsWith('RDS')).reduce((n, l) => n + l.quantity, 0);
    expect(dbInstances(two)).toBeCloseTo(4);
    expect(dbInstances(three)).toBeCloseTo(4);
    expect(three.hourly).toBeGreaterThan(two.hourly);
  });

  it('orders levels by cost', () => {
    const hourly = ['beginner', 'intermediate', 'advanced', 'expert'].map((l) => estimateCost(getLab(l), getLab(l).regions.default).hourly);
    expect([...hourly].sort((a, b) => a - b)).toEqual(hourly);
  });
});
