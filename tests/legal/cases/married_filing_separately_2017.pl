% Text
% Mara and Nils have been married since June 1st, 2012. They file separate returns for 2017.
% Mara was paid $30000 in 2017 and Nils $40000; neither itemizes.
% By hand, Mara's return: basic standard deduction $3,000 (§63(c)(2)(C); (c)(6)(A) does not
% apply, nobody itemizes); exemption $2,000 for herself only (§151(b): Nils has gross income);
% taxable income $25,000; §1(d)(ii): $2,767.50 + 28% of $6,550 = $4,601.50, $4,602 in whole
% dollars.

% Question
% How much tax does Mara have to pay in 2017? $4602

% Facts
:- [statutes/prolog/init].
marriage_(mara_and_nils).
agent_(mara_and_nils,mara).
agent_(mara_and_nils,nils).
start_(mara_and_nils,"2012-06-01").
payment_(mara_pay).
patient_(mara_pay,mara).
amount_(mara_pay,30000).
start_(mara_pay,"2017-12-31").
payment_(nils_pay).
patient_(nils_pay,nils).
amount_(nils_pay,40000).
start_(nils_pay,"2017-12-31").

% Test
:- tax(mara,2017,4602).
:- halt.
