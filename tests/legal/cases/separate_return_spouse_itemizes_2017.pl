% Text
% Gus and Hana have been married since 2008-04-12 and file separate returns for 2017. Gus earned
% $30,000 and does not itemize. Hana earned $60,000 and itemizes: $10,000 of mortgage interest
% paid on 2017-12-01.
% By hand: Gus is a married individual filing a separate return where his spouse itemizes, so his
% standard deduction is zero (§63(c)(6)(A)); one exemption, $2,000 (Hana has income). Taxable
% income $28,000; §1(d)(ii): $2,767.50 + 28% of $9,550 = $5,441.50, i.e. $5,442.

% Question
% How much tax does Gus have to pay in 2017? $5442

% Facts
:- [statutes/prolog/init].
marriage_(gus_hana).
agent_(gus_hana,gus).
agent_(gus_hana,hana).
start_(gus_hana,"2008-04-12").
income_(gus_wages).
agent_(gus_wages,gus).
amount_(gus_wages,30000).
start_(gus_wages,"2017-12-31").
income_(hana_wages).
agent_(hana_wages,hana).
amount_(hana_wages,60000).
start_(hana_wages,"2017-12-31").
deduction_(hana_mortgage_interest).
agent_(hana_mortgage_interest,hana).
amount_(hana_mortgage_interest,10000).
start_(hana_mortgage_interest,"2017-12-01").

% Test
:- tax(gus,2017,5442).
:- halt.
