% Text
% Eli and Fern have been married since May 14th, 2011 and file separate returns for 2018.
% Fern was paid $20000 and Eli $50000 in 2018; neither itemizes.
% By hand: basic standard deduction $12,000 (§63(c)(2)(C), (c)(7)(ii)); exemption amount zero
% (§151(d)(5)). $50,000 - $12,000 = $38,000: §1(d)(ii), $2,767.50 + 28% of $19,550 =
% $8,241.50, $8,242.

% Question
% How much tax does eli have to pay in 2018? $8242

% Facts
:- [statutes/prolog/init].
marriage_(eli_and_fern).
agent_(eli_and_fern,eli).
agent_(eli_and_fern,fern).
start_(eli_and_fern,"2011-05-14").
payment_(fern_paid).
patient_(fern_paid,fern).
amount_(fern_paid,20000).
start_(fern_paid,"2018-12-31").
payment_(eli_paid).
patient_(eli_paid,eli).
amount_(eli_paid,50000).
start_(eli_paid,"2018-12-31").

% Test
:- tax(eli,2018,8242).
:- halt.
