% Text
% Eli and Fern have been married since May 14th, 2011 and file separate returns for 2017.
% Fern was paid $20000 and Eli $60000 in 2017; neither itemizes.
% By hand: §1(d). $60,000 - $3,000 (§63(c)(2)(C)) - $2,000 (Fern has gross income, so no
% §151(b) spouse exemption) = $55,000: §1(d)(iii), $10,082.50 + 31% of $10,425 = $13,314.25,
% $13,314.

% Question
% How much tax does eli have to pay in 2017? $13314

% Facts
:- [statutes/prolog/init].
marriage_(eli_and_fern).
agent_(eli_and_fern,eli).
agent_(eli_and_fern,fern).
start_(eli_and_fern,"2011-05-14").
payment_(fern_paid).
patient_(fern_paid,fern).
amount_(fern_paid,20000).
start_(fern_paid,"2017-12-31").
payment_(eli_paid).
patient_(eli_paid,eli).
start_(eli_paid,"2017-12-31").
amount_(eli_paid,60000).

% Test
:- tax(eli,2017,13314).
:- halt.
