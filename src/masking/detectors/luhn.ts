/**
 * Payment card numbers: the Luhn check digit (ISO/IEC 7812-1, Annex B) and the issuer ranges of
 * the card networks, so that a long number that merely passes Luhn (one in ten do) is not taken
 * for a card unless it also starts like one.
 */

/** True when `digits` (ASCII digits only, at least 2) carries a valid Luhn check digit. */
export function luhnValid(digits: string): boolean {
  const n = digits.length;
  if (n < 2) return false;
  let sum = 0;
  let double = false;
  for (let i = n - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Whether a primary account number of this length starts in the range of a card network that
 * issues that length. Sources: the networks' published IIN ranges — Visa 4 (13, 16, 19 digits);
 * Mastercard 51–55 and 2221–2720 (16); American Express 34, 37 (15); Discover 6011, 644–649, 65
 * and 622126–622925 (16–19); JCB 3528–3589 (16–19); Diners Club 300–305, 36, 38–39 (14–19);
 * UnionPay 62 (16–19); Maestro 50, 56–69 (12–19).
 */
export function cardIssuerPlausible(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19) return false;
  const p2 = Number(digits.slice(0, 2));
  const p4 = Number(digits.slice(0, 4));
  switch (digits[0]) {
    case '2':
      return p4 >= 2221 && p4 <= 2720 && n === 16;
    case '3':
      if (p2 === 34 || p2 === 37) return n === 15;
      if (p4 >= 3528 && p4 <= 3589) return n >= 16;
      return ((p4 >= 3000 && p4 <= 3059) || p2 === 36 || p2 === 38 || p2 === 39) && n >= 14;
    case '4':
      return n === 13 || n === 16 || n === 19;
    case '5':
      if (p2 >= 51 && p2 <= 55) return n === 16;
      return p2 === 50 || p2 >= 56; // Maestro
    case '6':
      return true; // Discover, UnionPay, Maestro (56–69 covers the rest of 6x)
    default:
      return false;
  }
}
