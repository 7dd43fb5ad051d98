% Text
% Amir was born on 1995-01-20 and has never married. His brother Bilal, born on 1993-05-02, has
% lived with him in Amir's apartment on Pine Street since 2015-09-01 and had no income in 2017.
% Amir pays all the costs of the apartment ($9,000 in 2017) and earned $40,000 in 2017. He takes
% the standard deduction.
% By hand: the text has no support or income test for a qualifying child: Amir (22, younger
% than Bilal, same abode all year, a brother) is Bilal's qualifying child (§152(c)), hence
% Bilal's dependent. So Amir is treated as having no dependents (§152(b)(1)), his exemption
% amount is zero (§151(d)(2)), and without a dependent he is no head of household: §1(c),
% standard deduction $3,000 (§63(c)(5) allows up to $40,250). Taxable income $37,000;
% §1(c)(ii): $3,315 + 28% of $14,900 = $7,487.

% Question
% How much tax does Amir have to pay in 2017? $7487

% Facts
:- [statutes/prolog/init].
birth_(amir_born).
agent_(amir_born,amir).
start_(amir_born,"1995-01-20").
birth_(bilal_born).
agent_(bilal_born,bilal).
start_(bilal_born,"1993-05-02").
brother_(bilal_brother_of_amir).
agent_(bilal_brother_of_amir,bilal).
patient_(bilal_brother_of_amir,amir).
residence_(amir_pine).
agent_(amir_pine,amir).
patient_(amir_pine,pine_street_apartment).
start_(amir_pine,"2014-02-01").
residence_(bilal_pine).
agent_(bilal_pine,bilal).
patient_(bilal_pine,pine_street_apartment).
start_(bilal_pine,"2015-09-01").
payment_(amir_rent).
agent_(amir_rent,amir).
purpose_(amir_rent,pine_street_apartment).
amount_(amir_rent,9000).
start_(amir_rent,"2017-01-31").
payment_(amir_wages).
patient_(amir_wages,amir).
amount_(amir_wages,40000).
start_(amir_wages,"2017-12-31").

% Test
:- tax(amir,2017,7487).
:- halt.
