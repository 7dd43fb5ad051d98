% Text
% Abe married Bea on December 31st, 2017. They file separate returns for 2017; Bea was paid
% $25000 and Abe $40000 in 2017. Neither itemizes.
% By hand: married at the close of the year (§7703(a)(1)), no joint return: §1(d). $40,000 -
% $3,000 - $2,000 (Bea has gross income) = $35,000: §1(d)(ii), $2,767.50 + 28% of $16,550 =
% $7,401.50, $7,402.

% Question
% How much tax does abe have to pay in 2017? $7402

% Facts
:- [statutes/prolog/init].
marriage_(abe_and_bea).
agent_(abe_and_bea,abe).
agent_(abe_and_bea,bea).
start_(abe_and_bea,"2017-12-31").
payment_(bea_paid).
patient_(bea_paid,bea).
amount_(bea_paid,25000).
start_(bea_paid,"2017-12-31").
payment_(abe_paid).
patient_(abe_paid,abe).
amount_(abe_paid,40000).
start_(abe_paid,"2017-12-31").

% Test
:- tax(abe,2017,7402).
:- halt.
