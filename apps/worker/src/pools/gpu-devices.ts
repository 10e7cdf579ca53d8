/**
 * The GPUs a worker hands out (`EVALBOT_GPU_DEVICES`, else `/dev/nvidia<N>`): one per running
 * training that asks for a GPU, so two trainings never share one GPU's memory. Within one
 * process: each worker host runs its own pool workers with its own devices.
 */
export class GpuDevices {
  private readonly inUse = new Set<string>();

  constructor(readonly all: readonly string[]) {}

  /** The first free device, marked in use; undefined when every one is taken (or there is none). */
  lease(): string | undefined {
    const device = this.all.find((d) => !this.inUse.has(d));
    if (device !== undefined) this.inUse.add(device);
    return device;
  }

  release(device: string): void {
    this.inUse.delete(device);
  }

  get free(): number {
    return this.all.length - this.inUse.size;
  }
}
