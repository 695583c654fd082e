export async function runDemo(_s: unknown): Promise<number> { return 1; }
