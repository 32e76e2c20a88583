// Numbers, durations and dates for people.

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(hrs / 24)} d ${hrs % 24} h`;
}

// A rough duration ("about 4 min") for estimates.
export function roughDuration(seconds) {
  if (!Number.isFinite(seconds)) return 'unknown';
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds / 5) * 5)} s`;
  const m = seconds / 60;
  if (m < 90) return `about ${Math.round(m)} min`;
  const hrs = m / 60;
  if (hrs < 36) return `about ${hrs < 10 ? hrs.toFixed(1).replace(/\.0$/, '') : Math.round(hrs)} h`;
  return `about ${Math.round(hrs / 24)} days`;
}

// Short axis labels for elapsed seconds: 45s, 12m, 1h05.
export function clock(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? String(s % 60).padStart(2, '0') : ''}`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;
}

// A loss value in 4 significant digits, switching to exponent notation when tiny or huge.
export function loss(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(2).replace('e', 'e');
  return Number(x.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

export const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');

export function rate(x, digits = 2) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits);
}

export function bytes(n) {
  if (!Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 2 ** 20) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 2 ** 30) return `${(n / 2 ** 20).toFixed(1)} MB`;
  return `${(n / 2 ** 30).toFixed(1)} GB`;
}

// "today 14:03", "yesterday 09:12", "12 Mar 14:03"
export function when(unixSeconds) {
  if (!Number.isFinite(unixSeconds)) return '';
  const d = new Date(unixSeconds * 1000);
  const now = new Date();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((day(now) - day(d)) / 86400000);
  if (diff === 0) return `today ${time}`;
  if (diff === 1) return `yesterday ${time}`;
  const opts = { day: 'numeric', month: 'short' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return `${d.toLocaleDateString([], opts)} ${time}`;
}

export const plural = (n, one, many = `${one}s`) => `${int(n)} ${n === 1 ? one : many}`;

// "stained_glass" -> "Stained glass"
export function title(name) {
  const s = String(name || '').replace(/[_-]+/g, ' ').trim();
  return s ? s[0].toUpperCase() + s.slice(1) : '';
}
