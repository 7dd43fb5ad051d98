% Text
% Oren is single. In 2016 he was paid $400000 and gave $50000 to charities, which he deducts
% as an itemized deduction.
% By hand: 2 points for each $2,500 of the $150,000 excess is 120 points, capped at 100.

% Question
% Under section 151(d)(3)(B), Oren's applicable percentage for 2016 is 100 percent. Entailment

% Facts
:- [statutes/prolog/init].
payment_(oren_paid).
patient_(oren_paid,oren).
amount_(oren_paid,400000).
start_(oren_paid,"2016-12-31").
deduction_(oren_gifts).
agent_(oren_gifts,oren).
amount_(oren_gifts,50000).
start_(oren_gifts,"2016-12-31").

% Test
:- s151_d_3_B(100,oren,_,2016,_).
:- halt.
