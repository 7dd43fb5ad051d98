% Text
% Quinn has never married and was paid $400000 in 2017.
% By hand: Quinn's adjusted gross income exceeds the $250,000 applicable amount of
% §68(b)(1)(C) by $150,000, 60 steps of $2,500: the applicable percentage is 120, at most 100
% (§151(d)(3)(B)), so §151(d)(3) applies and reduces his $2,000 exemption amount to zero.

% Question
% Under section 151(d)(3), Quinn's exemption amount for 2017 is $0. Entailment

% Facts
:- [statutes/prolog/init].
payment_(quinn_paid).
patient_(quinn_paid,quinn).
start_(quinn_paid,"2017-12-31").
amount_(quinn_paid,400000).

% Test
:- s151_d_3(quinn,2017,0).
:- halt.
