% Text
% Abe married Bea on June 1st, 2009. A decree of divorce ended the marriage on December 31st,
% 2017. Bea was paid $25000 and Abe $40000 in 2017. Neither itemizes; no children.
% By hand: legally separated under a decree of divorce at the close of the year: not married
% (§7703(a)(2)). §1(c): $40,000 - $3,000 - $2,000 = $35,000: §1(c)(ii), $3,315 + 28% of
% $12,900 = $6,927.

% Question
% How much tax does abe have to pay in 2017? $6927

% Facts
:- [statutes/prolog/init].
marriage_(abe_and_bea).
agent_(abe_and_bea,abe).
agent_(abe_and_bea,bea).
start_(abe_and_bea,"2009-06-01").
legal_separation_(abe_and_bea_divorce).
agent_(abe_and_bea_divorce,"decree of divorce").
patient_(abe_and_bea_divorce,abe_and_bea).
start_(abe_and_bea_divorce,"2017-12-31").
payment_(bea_paid).
patient_(bea_paid,bea).
amount_(bea_paid,25000).
start_(bea_paid,"2017-12-31").
payment_(abe_paid).
patient_(abe_paid,abe).
amount_(abe_paid,40000).
start_(abe_paid,"2017-12-31").

% Test
:- tax(abe,2017,6927).
:- halt.
