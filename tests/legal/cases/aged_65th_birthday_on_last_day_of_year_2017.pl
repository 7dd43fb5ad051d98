% Text
% Gus was born on December 31st, 1952. He has never married. He was paid $30000 on June 30th,
% 2017, and takes the standard deduction.
% By hand: Gus's 65th birthday is December 31st, 2017, the last day of his taxable year: he
% "has attained age 65 before the close of his taxable year" (§63(f)(1)(A)), the close being
% the end of that day. Not married, not a surviving spouse: $750 (§63(f)(3)). Standard
% deduction $3,000 (§63(c)(2)(C)) + $750 = $3,750; exemption $2,000 (§151(b), (d)(1)).
% Taxable income $30,000 - $3,750 - $2,000 = $24,250; §1(c)(ii): $3,315 + 28% of ($24,250 -
% $22,100) = $3,315 + $602 = $3,917.

% Question
% How much tax does Gus have to pay in 2017? $3917

% Facts
:- [statutes/prolog/init].
birth_(gus_born).
agent_(gus_born,gus).
start_(gus_born,"1952-12-31").
payment_(gus_paid).
patient_(gus_paid,gus).
amount_(gus_paid,30000).
start_(gus_paid,"2017-06-30").

% Test
:- tax(gus,2017,3917).
:- halt.
