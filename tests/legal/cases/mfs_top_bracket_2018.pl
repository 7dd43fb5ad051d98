% Text
% Eli and Fern have been married since May 14th, 2011 and file separate returns for 2018.
% Fern was paid $20000 and Eli $200000 in 2018; neither itemizes.
% By hand: $200,000 - $12,000 (§63(c)(7)(ii)) = $188,000: §1(d)(v), $37,764.25 + 39.6% of
% $63,000 = $62,712.25, $62,712.

% Question
% How much tax does eli have to pay in 2018? $62712

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
amount_(eli_paid,200000).
start_(eli_paid,"2018-12-31").

% Test
:- tax(eli,2018,62712).
:- halt.
