// A weighted multi-step progress bar on stderr (redrawn in place on a TTY, one line per 10 % otherwise).
export interface Progress {
  step: (name: string) => void
  advance: (fraction: number) => void
  done: () => void
}

export function createProgress (steps: ReadonlyArray<[string, number]>, title: string): Progress {
  const total = steps.reduce((a, [, w]) => a + w, 0)
  const weights = new Map(steps)
  const tty = process.stderr.isTTY
  const started = Date.now()
  let doneWeight = 0
  let current = ''
  let currentFraction = 0
  let lastDecile = -1
  const draw = (): void => {
    const w = weights.get(current) ?? 0
    const pct = Math.min(1, (doneWeight + w * currentFraction) / total)
    const width = 30
    const filled = Math.round(pct * width)
    const line = `${title} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(pct * 100).toFixed(0).padStart(3)}% ${((Date.now() - started) / 1000).toFixed(1)}s ${current}`
    if (tty) process.stderr.write(`\r${line.padEnd(110)}`)
    else {
      const decile = Math.floor(pct * 10)
      if (decile !== lastDecile) { lastDecile = decile; process.stderr.write(line + '\n') }
    }
  }
  return {
    step (name) {
      if (current !== '') doneWeight += weights.get(current) ?? 0
      current = name
      currentFraction = 0
      draw()
    },
    advance (fraction) { currentFraction = Math.max(0, Math.min(1, fraction)); draw() },
    done () {
      if (current !== '') doneWeight += weights.get(current) ?? 0
      current = 'done'
      currentFraction = 0
      draw()
      if (tty) process.stderr.write('\n')
    }
  }
}
