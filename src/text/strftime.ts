/**
 * The small `strftime` subset chat templates call through HF's `strftime_now` global
 * (Llama-3-style templates print today's date). Pure: the caller passes the date.
 */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Format `date` (local time) with Python strftime codes %a %A %b %B %d %m %y %Y %H %M %S %p %j %%. */
export function strftime(format: string, date: Date): string {
  return format.replace(/%([aAbBdmyYHMSpj%])/g, (_m, code: string) => {
    switch (code) {
      case 'a':
        return DAYS[date.getDay()].slice(0, 3);
      case 'A':
        return DAYS[date.getDay()];
      case 'b':
        return MONTHS[date.getMonth()].slice(0, 3);
      case 'B':
        return MONTHS[date.getMonth()];
      case 'd':
        return pad2(date.getDate());
      case 'm':
        return pad2(date.getMonth() + 1);
      case 'y':
        return pad2(date.getFullYear() % 100);
      case 'Y':
        return String(date.getFullYear());
      case 'H':
        return pad2(date.getHours());
      case 'M':
        return pad2(date.getMinutes());
      case 'S':
        return pad2(date.getSeconds());
      case 'p':
        return date.getHours() < 12 ? 'AM' : 'PM';
      case 'j': {
        // Calendar days, not elapsed hours, so a DST change cannot shift the count.
        const y = date.getFullYear();
        const today = Date.UTC(y, date.getMonth(), date.getDate());
        const day = (today - Date.UTC(y, 0, 1)) / 86_400_000 + 1;
        return String(day).padStart(3, '0');
      }
      default:
        return '%';
    }
  });
}
