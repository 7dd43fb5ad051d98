% Text
% Eli and Fern have been married since May 14th, 2011 and file separate returns for 2017.
% Fern was paid $20000 and Eli $105000 in 2017; neither itemizes.
% By hand: $105,000 - $3,000 - $2,000 = $100,000: §1(d)(iv), $17,964.25 + 36% of $30,000
% = $28,764.25, $28,764. AGI below $150,000 (§68(b)(1)(D)): no phaseout.

% Question
% How much tax does eli have to pay in 2017? $28764

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
amount_(eli_paid,105000).

% Test
:- tax(eli,2017,28764).
:- halt.
