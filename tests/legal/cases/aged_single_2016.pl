% Text
% Grace was born on April 12th, 1950 and has never married. In 2016 the library that employs
% her paid her $41200 in wages. She takes the standard deduction and supports nobody else.
% By hand: standard deduction $3,000 (§63(c)(2)(C)) + $750 (§63(f)(1)(A), (f)(3): 65 before
% the close of 2016, not married) = $3,750; exemption $2,000 (§151(b), (d)(1)); taxable income
% $41,200 - $3,750 - $2,000 = $35,450; §1(c)(ii): $3,315 + 28% of $13,350 = $7,053.

% Question
% How much tax does Grace have to pay in 2016? $7053

% Facts
:- [statutes/prolog/init].
birth_(grace_born).
agent_(grace_born,grace).
start_(grace_born,"1950-04-12").
payment_(library_pays_grace).
agent_(library_pays_grace,city_library).
patient_(library_pays_grace,grace).
amount_(library_pays_grace,41200).
start_(library_pays_grace,"2016-12-20").

% Test
:- tax(grace,2016,7053).
:- halt.
