% Text
% Amir, born 1995-01-20 and never married, lives with his older brother Bilal (born 1993-05-02),
% who has no income, in Amir's apartment, whose costs Amir pays. Amir earned $40,000 in 2017.
% By hand: Amir is Bilal's qualifying child, so a §151 deduction for him is allowable to another
% taxpayer; §63(c)(5) limits his basic standard deduction to the greater of $500 and $250 plus
% his earned income ($40,250): the $3,000 of §63(c)(2)(C) stands.

% Question
% Under section 63(c)(5), Amir's basic standard deduction for 2017 is $3000. Entailment

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
:- s63_c_5(amir,2017,3000).
:- halt.
