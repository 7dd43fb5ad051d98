% Text
% Gus was born on January 1st, 1953. He has never married. He was paid $30000 on June 30th,
% 2017, and takes the standard deduction.
% By hand: Gus turns 65 on January 1st, 2018, after the close of his 2017 taxable year: no
% §63(f)(1)(A) amount for 2017. Standard deduction $3,000 (§63(c)(2)(C)); exemption $2,000.
% Taxable income $25,000; §1(c)(ii): $3,315 + 28% of ($25,000 - $22,100) = $3,315 + $812 =
% $4,127.

% Question
% How much tax does Gus have to pay in 2017? $4127

% Facts
:- [statutes/prolog/init].
birth_(gus_born).
agent_(gus_born,gus).
start_(gus_born,"1953-01-01").
payment_(gus_paid).
patient_(gus_paid,gus).
amount_(gus_paid,30000).
start_(gus_paid,"2017-06-30").

% Test
:- tax(gus,2017,4127).
:- halt.
