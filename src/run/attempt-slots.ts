/**
 * How many Docker-in-Docker attempts may run while VM attempts run. A VM under software
 * emulation keeps a core busy for its whole attempt; if dind attempts kept every slot, the
 * VMs would get what the scheduler leaves them (on 2 cores: half each, and a VM attempt
 * takes two to three times as long). So each running VM attempt holds `slotsPerVm` of the
 * dind slots — a core's worth — and the dind attempts give way, first come first served.
 */
export class AttemptSlots {
  private dindRunning = 0;
  private vmsRunning = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly dindSlots: number,
    readonly slotsPerVm: number,
  ) {}

  /** The dind slots free of running VMs now. */
  get dindAllowed(): number {
    return Math.max(0, this.dindSlots - this.slotsPerVm * this.vmsRunning);
  }

  async dind<T>(work: () => Promise<T>): Promise<T> {
    // a waiting attempt is counted as running by admit() when its turn comes
    if (this.waiting.length > 0 || this.dindRunning >= this.dindAllowed)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.dindRunning++;
    try {
      return await work();
    } finally {
      this.dindRunning--;
      this.admit();
    }
  }

  async vm<T>(work: () => Promise<T>): Promise<T> {
    this.vmsRunning++;
    try {
      return await work();
    } finally {
      this.vmsRunning--;
      this.admit();
    }
  }

  /** Starts waiting dind attempts, in the order they came, while slots are free. */
  private admit(): void {
    while (this.waiting.length > 0 && this.dindRunning < this.dindAllowed) {
      this.dindRunning++;
      (this.waiting.shift() as () => void)();
    }
  }
}
