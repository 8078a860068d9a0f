/**
 * AWS Organizations for the local cloud: an organization with a root, organizational units and
 * member accounts. The local cloud's principals get `aws:PrincipalOrgID` from it (a role in a
 * member account carries the organization's id, a role elsewhere carries none), so that policies
 * conditioned on the organization are evaluated, not special-cased. Moving an account into an OU
 * notifies listeners (what StackSets' automatic deployment watches).
 */
import { randomBytes } from 'crypto';
import type { PrincipalRegistry } from '../iam/principals';

/** An account's move: `from` or `to` is undefined when the account joins or leaves the organization. */
export type AccountMove = (account: string, from: string | undefined, to: string | undefined) => Promise<void>;

const lower = (n: number) => Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');

export class LocalOrganization {
  /** `o-` and 10 characters, as Organizations forms it. */
  public readonly id = `o-${lower(10)}`;
  /** The root (`r-` and 4 characters): the parent of top-level OUs and of accounts in no OU. */
  public readonly rootId = `r-${lower(4)}`;
  private readonly parents = new Map<string, string>(); // OU id → parent id
  private readonly names = new Map<string, string>();
  private readonly accounts = new Map<string, string>(); // account → parent id
  private readonly listeners: AccountMove[] = [];

  /** `principals`: the local cloud's registry (`cloud.principals`), which learns the organization's accounts. */
  constructor(principals: PrincipalRegistry, public readonly managementAccount: string) {
    principals.addOrganization((account) => (this.accounts.has(account) ? this.id : undefined));
    this.accounts.set(managementAccount, this.rootId);
  }

  /** Creates an OU under `parentId` (default the root); returns its id, `ou-<root>-<8 characters>`. */
  public createOrganizationalUnit(name: string, parentId = this.rootId): string {
    if (parentId !== this.rootId && !this.parents.has(parentId)) throw new Error(`ParentNotFoundException: ${parentId}`);
    const id = `ou-${this.rootId.slice(2)}-${lower(8)}`;
    this.parents.set(id, parentId);
    this.names.set(id, name);
    return id;
  }

  /** Brings an account into the organization (created or invited), under `parentId`. */
  public async addAccount(account: string, parentId = this.rootId): Promise<void> {
    if (this.accounts.has(account)) throw new Error(`DuplicateAccountException: ${account} is already in ${this.id}`);
    this.checkParent(parentId);
    this.accounts.set(account, parentId);
    await this.notify(account, undefined, parentId);
  }

  /** MoveAccount: the account goes to another OU (or the root). */
  public async moveAccount(account: string, destinationParentId: string): Promise<void> {
    const from = this.accounts.get(account);
    if (!from) throw new Error(`AccountNotFoundException: ${account} is not in ${this.id}`);
    this.checkParent(destinationParentId);
    this.accounts.set(account, destinationParentId);
    await this.notify(account, from, destinationParentId);
  }

  /** RemoveAccountFromOrganization. */
  public async removeAccount(account: string): Promise<void> {
    const from = this.accounts.get(account);
    if (!from) throw new Error(`AccountNotFoundException: ${account} is not in ${this.id}`);
    this.accounts.delete(account);
    await this.notify(account, from, undefined);
  }

  /** The accounts in an OU and in the OUs below it, as a StackSet targeting the OU deploys to. */
  public accountsIn(ouId: string): string[] {
    return [...this.accounts.entries()].filter(([, parent]) => this.isWithin(parent, ouId)).map(([account]) => account);
  }

  /** Whether `parentId` is `ouId` or below it. */
  public isWithin(parentId: string | undefined, ouId: string): boolean {
    for (let p = parentId; p !== undefined; p = this.parents.get(p)) if (p === ouId) return true;
    return false;
  }

  /** The OU's name. */
  public nameOf(ouId: string): string | undefined {
    return this.names.get(ouId);
  }

  /** Called after every account move (StackSets' automatic deployment). */
  public onAccountMove(listener: AccountMove): void {
    this.listeners.push(listener);
  }

  private checkParent(parentId: string): void {
    if (parentId !== this.rootId && !this.parents.has(parentId)) throw new Error(`ParentNotFoundException: ${parentId}`);
  }

  private async notify(account: string, from: string | undefined, to: string | undefined): Promise<void> {
    for (const listener of this.listeners) await listener(account, from, to);
  }
}
