% Text
% Ingrid and Tomas married on June 4th, 2005 and are still married. In 2017 they file separate
% returns; neither of them itemizes. Ingrid was paid a salary of $160,000 in 2017, Tomas $40,000.
% By hand: Ingrid is married (§7703) and files separately: §1(d). Basic standard deduction
% $3,000 (§63(c)(2)(C)). The §68(b)(1)(D) applicable amount is half of $300,000 = $150,000;
% her AGI exceeds it by $10,000, which is 8 steps of $1,250 (§151(d)(3)(B), second sentence),
% so the exemption amount is cut by 16%: $1,680 (Tomas has income: no exemption for him).
% Taxable income $160,000 - $3,000 - $1,680 = $155,320; §1(d)(v): $37,764.25 + 39.6% of
% $30,320 = $49,770.97, i.e. $49,771.

% Question
% How much tax does Ingrid have to pay in 2017? $49771

% Facts
:- [statutes/prolog/init].
marriage_(ingrid_and_tomas).
agent_(ingrid_and_tomas,ingrid).
agent_(ingrid_and_tomas,tomas).
start_(ingrid_and_tomas,"2005-06-04").
payment_(ingrid_salary).
patient_(ingrid_salary,ingrid).
amount_(ingrid_salary,160000).
start_(ingrid_salary,"2017-12-29").
payment_(tomas_salary).
patient_(tomas_salary,tomas).
amount_(tomas_salary,40000).
start_(tomas_salary,"2017-12-29").

% Test
:- tax(ingrid,2017,49771).
:- halt.
