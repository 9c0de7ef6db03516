import { describe, expect, it } from 'vitest';
import { applyPlan, envFileText, urlVariable, type Rabbitmqctl } from './permissions-apply.js';
import type { PermissionsPlan, UserPlan } from './permissions-plan.js';

function user(principal: string, prefix = ''): UserPlan {
  return {
    user: `${prefix}${principal}`,
    principal,
    serves: [],
    calls: [],
    publishes: [],
    subscribes: {},
    configure: '^$',
    write: '^$',
    read: '^$',
    topicWrite: '^$',
    topicRead: '^$',
  };
}

const plan: PermissionsPlan = {
  vhost: 'shop',
  userPrefix: 'st-',
  users: [user('orders', 'st-'), user('gateway', 'st-')],
  warnings: [],
};

/** A fake rabbitmqctl over an in-memory broker: users, vhosts, and every command run. */
function fakeCtl(
  users: string[],
  vhosts = ['/', 'shop'],
): Rabbitmqctl & { runs: { args: readonly string[]; input: string | undefined }[] } {
  const runs: { args: readonly string[]; input: string | undefined }[] = [];
  return {
    runs,
    async run(args, input) {
      runs.push({ args, input });
      if (args[0] === 'list_users') return JSON.stringify(users.map((name) => ({ user: name, tags: [] })));
      if (args[0] === 'list_vhosts') return JSON.stringify(vhosts.map((name) => ({ name })));
      if (args[0] === 'add_user') users.push(args[1]!);
      return '';
    },
  };
}

describe('applyPlan', () => {
  it('creates missing users with a password on stdin, then sets permissions; a second run creates nobody', async () => {
    const ctl = fakeCtl(['guest', 'st-gateway']);
    const first = await applyPlan(plan, ctl);
    expect(first.created).toEqual(['st-orders']);
    const add = ctl.runs.find((run) => run.args[0] === 'add_user')!;
    expect(add.args).toEqual(['add_user', 'st-orders']);
    expect(add.input).toBe(`${first.passwords.get('st-orders')}\n`);
    expect(first.passwords.get('st-orders')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(ctl.runs.filter((run) => run.args[0] === 'set_permissions').map((run) => run.args[3])).toEqual(
      expect.arrayContaining(['st-orders', 'st-gateway']),
    );
    expect(ctl.runs.filter((run) => run.args[0] === 'set_topic_permissions')).toHaveLength(2);
    // a user's permissions come after its creation
    const order = ctl.runs.filter((run) => run.args.includes('st-orders')).map((run) => run.args[0]);
    expect(order).toEqual(['add_user', 'set_permissions', 'set_topic_permissions']);

    ctl.runs.length = 0;
    const second = await applyPlan(plan, ctl);
    expect(second.created).toEqual([]);
    expect(second.passwords.size).toBe(0);
    expect(ctl.runs.some((run) => run.args[0] === 'add_user' || run.args[0] === 'change_password')).toBe(false);
  });

  it('resets passwords only when asked, and refuses to create users when told not to', async () => {
    const ctl = fakeCtl(['st-orders', 'st-gateway']);
    const reset = await applyPlan(plan, ctl, { resetPasswords: true, passwords: new Map([['st-orders', 'chosen']]) });
    expect(ctl.runs.filter((run) => run.args[0] === 'change_password').map((run) => [run.args[1], run.input])).toEqual(
      expect.arrayContaining([
        ['st-orders', 'chosen\n'],
        ['st-gateway', `${reset.passwords.get('st-gateway')}\n`],
      ]),
    );
    await expect(applyPlan(plan, fakeCtl([]), { createUsers: false })).rejects.toThrow(
      /users st-orders, st-gateway do not exist yet/,
    );
  });

  it('does not create a vhost that does not exist', async () => {
    await expect(applyPlan({ ...plan, vhost: 'typo' }, fakeCtl([]))).rejects.toThrow(/vhost "typo" does not exist/);
  });
});

describe('envFileText', () => {
  it('writes one URL per user whose password is known, named by the principal, and the prefix', () => {
    const text = envFileText(
      plan,
      new Map([['st-orders', 'pw/with:odd@chars']]),
      'amqp://guest:guest@broker:5672/other',
    );
    expect(text.split('\n').slice(1)).toEqual([
      'ORDERS_AMQP_URL=amqp://st-orders:pw%2Fwith%3Aodd%40chars@broker:5672/shop',
      'WARREN_USER_PREFIX=st-',
      '',
    ]);
    expect(urlVariable('shop-orders.v2')).toBe('SHOP_ORDERS_V2_AMQP_URL');
  });
});
