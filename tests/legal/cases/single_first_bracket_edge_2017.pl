% Text
% Ana has never married. She was paid $27100 in 2017 and takes the standard deduction.
% By hand: $27,100 - $3,000 (§63(c)(2)(C)) - $2,000 (§151(b), (d)(1)) = $22,100, not over
% $22,100: §1(c)(i), 15% = $3,315.

% Question
% How much tax does ana have to pay in 2017? $3315

% Facts
:- [statutes/prolog/init].
payment_(ana_paid).
patient_(ana_paid,ana).
amount_(ana_paid,27100).
start_(ana_paid,"2017-12-31").

% Test
:- tax(ana,2017,3315).
:- halt.
