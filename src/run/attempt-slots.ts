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
  private readonly waitingList: Array<() => void> = [];

  constructor(
    private slots: number,
    readonly slotsPerVm: number,
  ) {}

  get dindSlots(): number {
    return this.slots;
  }

  /** Dind attempts waiting for a slot. */
  get waiting(): number {
    return this.waitingList.length;
  }

  /** A new number of dind slots (an `auto` run following the CPU): more start at once, fewer let running ones end. */
  setDindSlots(slots: number): void {
    this.slots = Math.max(1, slots);
    this.admit();
  }

  /** The dind slots free of running VMs now. */
  get dindAllowed(): number {
    return Math.max(0, this.slots - this.slotsPerVm * this.vmsRunning);
  }

  async dind<T>(work: () => Promise<T>): Promise<T> {
    // a waiting attempt is counted as running by admit() when its turn comes
    if (this.waitingList.length > 0 || this.dindRunning >= this.dindAllowed)
      await new Promise<void>((resolve) => this.waitingList.push(resolve));
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
    while (this.waitingList.length > 0 && this.dindRunning < this.dindAllowed) {
      this.dindRunning++;
      (this.waitingList.shift() as () => void)();
    }
  }
}
